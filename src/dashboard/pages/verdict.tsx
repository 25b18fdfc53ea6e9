import type { Comparison, CompareRow } from '../../metrics/compare.js'
import type { ConversionComparison } from '../../metrics/conversion-compare.js'
import { differenceInterval, normalQuantile, sampleSizePerGroup } from '../../metrics/statistics.js'
import { fmtMoney } from '../layout.js'

const METRIC_WORDS: Record<string, string> = {
  open_rate: 'open rate',
  click_rate: 'click rate',
  click_to_open_rate: 'click-to-open rate',
  conversion_rate: 'conversion rate',
}

export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001'
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`
}

/** A difference of rates in percentage points, signed: +2.7, −3.1 (a true minus sign). */
export function points(d: number): string {
  const v = (d * 100).toFixed(1)
  if (Number(v) === 0) return '0.0'
  return d > 0 ? `+${v}` : `\u2212${v.slice(1)}`
}

/** Sends still missing across the groups for the test to reach `needed` per group, rounded up to two significant digits (an estimate). */
function moreSends(c: Comparison, needed: number): number {
  const n = c.rows.reduce((s, r) => s + Math.max(0, needed - r.trials), 0)
  if (n < 100) return n
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1)
  return Math.ceil(n / unit) * unit
}

/** The best group and the runner-up on the rate, ties kept in the order given. */
function leaderAndRunnerUp(rows: CompareRow[]): [CompareRow, CompareRow] | null {
  if (rows.length < 2) return null
  const sorted = [...rows].sort((a, b) => b.rate.value - a.rate.value)
  return [sorted[0]!, sorted[1]!]
}

/**
 * The comparison in words, as a marketer reads it: the metric, the leader, its lift over the
 * runner-up in percentage points with the 95% interval, and whether it is significant — if not,
 * about how many more sends would tell.
 */
export function verdictText(c: Comparison): string {
  const t = c.test
  const metric = METRIC_WORDS[c.metric] ?? c.metric.replace(/_/g, ' ')
  if (t.reason === 'single_group') return 'Only one group: nothing to compare.'
  const pair = leaderAndRunnerUp(c.rows)
  if (!pair) return 'Only one group: nothing to compare.'
  const [lead, next] = pair
  const d = differenceInterval(lead.successes, lead.trials, next.successes, next.trials, 1 - c.alpha)
  const lift = `${points(d.value)} points (${points(d.low)} to ${points(d.high)})`
  const confidence = `${Math.round((1 - c.alpha) * 100)}%`
  if (t.reason === 'no_variation' || d.value === 0) return `No difference in ${metric} between ${lead.key} and ${next.key} (${(lead.rate.value * 100).toFixed(1)}% each).`
  if (t.winner !== null && t.pValue !== null) {
    return `${t.winner} beats ${next.key === t.winner ? lead.key : next.key} on ${metric}, ${lift}, significant (${formatP(t.pValue)}, ${confidence} interval).`
  }
  if (t.reason === 'no_single_winner' && t.pValue !== null) {
    return `The groups differ on ${metric} (${formatP(t.pValue)}), but no single one is best: ${lead.key} leads ${next.key} by ${lift}.`
  }
  let needed: number | null = t.neededPerGroup
  if (t.reason !== 'not_enough_data') needed = sampleSizePerGroup(lead.rate.value, next.rate.value, c.alpha)
  const more = needed !== null ? moreSends(c, needed) : 0
  const p = t.pValue !== null ? ` (${formatP(t.pValue)})` : ''
  const tail =
    more > 0
      ? `not significant yet${p}: about ${more.toLocaleString('en-US')} more sends needed`
      : t.reason === 'not_enough_data'
        ? 'not enough data yet to tell'
        : `not significant${p}`
  return `${lead.key} leads on ${metric}, ${lift}, ${tail}.`
}

/** A signed amount per recipient in the currency's decimals, with a true minus sign. */
function signedMoney(x: number, currency: string): string {
  const m = fmtMoney(Math.abs(x).toFixed(4), currency)
  return Number(m.split(' ')[0]!.replace(/,/g, '')) === 0 ? m : x > 0 ? `+${m}` : `\u2212${m}`
}

/**
 * Revenue per recipient in words: the leader, its lead over the runner-up per recipient with the
 * 95% interval of the difference (Welch, from each row's interval), and the Welch test's verdict.
 */
export function revenueVerdictText(c: ConversionComparison): string {
  const t = c.test
  const cur = c.currency ?? ''
  if (c.rows.length < 2) return 'Only one group: nothing to compare.'
  const [lead, next] = [...c.rows].sort((a, b) => b.rate.value - a.rate.value) as [ConversionComparison['rows'][number], ConversionComparison['rows'][number]]
  const z = normalQuantile(1 - c.alpha / 2)
  const se = Math.hypot((lead.rate.high - lead.rate.value) / z, (next.rate.high - next.rate.value) / z)
  const d = lead.rate.value - next.rate.value
  const lift = `${signedMoney(d, cur)} per recipient (${signedMoney(d - z * se, cur)} to ${signedMoney(d + z * se, cur)})`
  if (d === 0) return `No difference in revenue per recipient between ${lead.key} and ${next.key}.`
  const p = t.pValue !== null ? ` (${formatP(t.pValue)})` : ''
  if (t.winner !== null) return `${t.winner} beats ${next.key} on revenue per recipient, ${lift}, significant${p}.`
  if (t.reason === 'not_enough_data') return `${lead.key} leads on revenue per recipient, ${lift}, not enough data yet to tell.`
  return `${lead.key} leads on revenue per recipient, ${lift}, not significant${p}.`
}

export function Verdict(props: { comparison: Comparison }) {
  return <strong>{verdictText(props.comparison)}</strong>
}
