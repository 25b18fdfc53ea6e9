/**
 * The sequence funnel's answers on the data bench/sequences.ts built (DATA_DIR), for comparing a
 * change before and after: every cohort × traffic, and an entry window, at a fixed clock (so
 * `due`/`pending` do not move), written as JSON to BENCH_DUMP with their md5.
 *   DATA_DIR=/work/benchdata/sequences BENCH_DUMP=/tmp/funnel-before npx tsx bench/sequences-funnel-dump.ts
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { sequenceFunnel, type Cohort } from '../src/metrics/sequence-funnel.js'
import type { Traffic } from '../src/metrics/sql.js'
import { getSequence } from '../src/services/sequences.js'
import { startBenchServer } from './lib/bench-server.js'

if (!process.env.DATA_DIR || !process.env.BENCH_DUMP) throw new Error('DATA_DIR (the data bench/sequences.ts built) and BENCH_DUMP (where to write)')
const dir = process.env.BENCH_DUMP
mkdirSync(dir, { recursive: true })
const NOW = Date.parse(process.env.BENCH_DUMP_NOW ?? '2026-12-05T12:00:00Z')
const bench = await startBenchServer('sequences')
const deps = { ...bench.deps, clock: () => NOW }
const seq = await getSequence(deps, 'bench-seq')
const from = Date.parse('2026-10-20T00:00:00Z')
const to = Date.parse('2026-11-10T12:00:00Z')
const cases: Array<[string, Traffic, Cohort, number | undefined, number | undefined]> = []
for (const traffic of ['human', 'machine', 'all'] as const) for (const cohort of ['day', 'week', 'month'] as const) cases.push([`${traffic}-${cohort}`, traffic, cohort, undefined, undefined])
cases.push(['human-week-from-to', 'human', 'week', from, to], ['all-day-from', 'all', 'day', from, undefined], ['human-month-to', 'human', 'month', undefined, to])
for (const [name, traffic, cohort, f, t] of cases) {
  const t0 = performance.now()
  const text = JSON.stringify(await sequenceFunnel(deps, seq, { traffic, cohort, from: f, to: t }), null, 1)
  writeFileSync(`${dir}/${name}.json`, text)
  console.log(`${createHash('md5').update(text).digest('hex')}  ${name}.json  (${(performance.now() - t0).toFixed(0)} ms)`)
}
await bench.stop()
process.exit(0)
