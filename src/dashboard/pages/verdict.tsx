import type { Comparison } from '../../metrics/compare.js'
import { sampleSizePerGroup } from '../../metrics/statistics.js'

const METRIC_WORDS: Record<Comparison['metric'], string> = {
  open_rate: 'open rate',
  click_rate: 'click rate',
  click_to_open_rate: 'click-to-open rate',
}

export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001'
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`
}

/** Sends still missing across the groups for the test to reach `needed` per group. */
function moreSends(c: Comparison, needed: number): number {
  return c.rows.reduce((s, r) => s + Math.max(0, needed - r.trials), 0)
}

/** The compare function's test result in words. */
export function verdictText(c: Comparison): string {
  const t = c.test
  const metric = METRIC_WORDS[c.metric]
  const keys = c.rows.map((r) => r.key)
  if (t.reason === 'single_group') return 'Only one group: nothing to compare.'
  if (t.winner !== null && t.pValue !== null) {
    const others = keys.filter((k) => k !== t.winner)
    const against = others.length === 1 ? others[0]! : 'the others'
    return `${t.winner} beats ${against} on ${metric}, ${formatP(t.pValue)}.`
  }
  if (t.reason === 'no_single_winner' && t.pValue !== null) return `The groups differ on ${metric} (${formatP(t.pValue)}), but no single one is best.`
  if (t.reason === 'no_variation') return `No difference in ${metric}.`
  if (t.reason === 'not_enough_data') {
    if (t.neededPerGroup === null) return `Not enough data yet to compare ${metric}.`
    return `No significant difference yet — about ${moreSends(c, t.neededPerGroup).toLocaleString('en-US')} more sends needed.`
  }
  const rates = c.rows.map((r) => r.rate.value)
  const needed = sampleSizePerGroup(Math.max(...rates), Math.min(...rates), c.alpha)
  const more = needed !== null ? moreSends(c, needed) : 0
  const p = t.pValue !== null ? ` (${formatP(t.pValue)})` : ''
  return more > 0 ? `No significant difference yet${p} — about ${more.toLocaleString('en-US')} more sends needed.` : `No significant difference in ${metric}${p}.`
}

export function Verdict(props: { comparison: Comparison }) {
  return <strong>{verdictText(props.comparison)}</strong>
}
