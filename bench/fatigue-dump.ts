/**
 * The fatigue curve's JSON for four parameter sets (every campaign; a category; chosen buckets and
 * another window; a short range), written to OUT (a directory) to compare before and after a change
 * by md5; each request's wall and CPU ms printed. On the data bench/pressure.ts built (DATA_DIR).
 *   OUT=/tmp/fatigue-before DATA_DIR=/work/benchdata/pressure npx tsx bench/fatigue-dump.ts && md5sum /tmp/fatigue-before/*
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { BENCH_KEY, startBenchServer } from './lib/bench-server.js'

const OUT = process.env.OUT ?? '/tmp/fatigue-dump'
mkdirSync(OUT, { recursive: true })
const bench = await startBenchServer('pressure')
const sets: Array<[string, string]> = [
  ['default', 'window=P30D&to=2026-11-30T00:00:00.000Z'],
  ['promotion', 'window=P30D&category=promotion&to=2026-11-30T00:00:00.000Z'],
  ['buckets', 'window=P14D&buckets=0,1,3,5,10,15&to=2026-11-30T00:00:00.000Z'],
  ['short', 'window=P7D&from=2026-11-01T00:00:00Z&to=2026-11-08T12:00:00Z&category=newsletter'],
]
const only = process.env.SETS ? process.env.SETS.split(',') : null
for (const [name, q] of sets) {
  if (only && !only.includes(name)) continue
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const res = await fetch(`${bench.base}/v1/pressure/fatigue?${q}`, { headers: { authorization: `Bearer ${BENCH_KEY}` } })
  const body = await res.text()
  const c = process.cpuUsage(c0)
  writeFileSync(`${OUT}/${name}.json`, body)
  console.log(name, res.status, (performance.now() - t0).toFixed(0), 'ms wall', ((c.user + c.system) / 1000).toFixed(0), 'ms cpu')
}
await bench.stop()
process.exit(0)
