/*
 * Before/after figures of the per-recipient and per-campaign projections (p_recipient_traffic,
 * p_campaign_classes) on a data set kept by bench/metrics.ts:
 * the same metric functions with optimize_use_projections off and on, alternating rounds so
 * that the machine's load affects both alike. A separate process: the setting is applied to the
 * connection (chDB keeps it), which the app never does.
 *
 *   DATA_DIR=/tmp/bench-metrics BENCH_REUSE=1 npm run bench:metrics   (once, to create the data)
 *   DATA_DIR=/tmp/bench-metrics npx tsx bench/lib/metrics-projection-ab.ts
 */
import { join } from 'node:path'
import { campaignStats } from '../../src/metrics/campaign-stats.js'
import { compareCampaigns, compareVariants, projectCampaign } from '../../src/metrics/compare.js'
import { segmentStats } from '../../src/metrics/segments.js'
import { timing } from '../../src/metrics/timing.js'
import { createEventStore } from '../../src/store/clickhouse.js'

const store = createEventStore({ database: process.env.CLICKHOUSE_DATABASE ?? 'sillage', path: join(process.env.DATA_DIR ?? '/tmp/bench-metrics', 'clickhouse') })
const w = { traffic: 'human' as const }
const c = 'bench-3'
const cases: Record<string, () => Promise<unknown>> = {
  stats: () => campaignStats(store, c, w),
  'segments by=segment': () => segmentStats(store, c, { kind: 'segment' }, w),
  'compare by=variant': () => compareVariants(store, c, 'click_rate', 0.05, w),
  'compare campaigns (2)': () => compareCampaigns(store, [c, 'bench-4'], 'click_rate', 0.05, w),
  projection: () => projectCampaign(store, c, 1_000_000, w),
  timing: () => timing(store, c, null, 'UTC', w),
}
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const setProjections = (on: 0 | 1) => store.client.command({ query: `SET optimize_use_projections = ${on}` })
console.log(`${'endpoint function'.padEnd(24)} ${'without ms'.padStart(11)} ${'with ms'.padStart(9)}`)
for (const [name, run] of Object.entries(cases)) {
  const off: number[] = []
  const on: number[] = []
  for (let i = 0; i < ROUNDS + 1; i++) {
    for (const mode of [0, 1] as const) {
      await setProjections(mode)
      const t = performance.now()
      await run()
      if (i > 0) (mode ? on : off).push(performance.now() - t)
    }
  }
  console.log(`${name.padEnd(24)} ${median(off).toFixed(1).padStart(11)} ${median(on).toFixed(1).padStart(9)}`)
}
await setProjections(1)
process.exit(0)
