/*
 * Dumps the engagement answers (counts, weekly series, wake-up lists, recipient pages) on a bench data set to
 * OUT_DIR, one file per request, to compare before and after a change (md5sum OUT_DIR/*).
 *
 *   DATA_DIR=/work/benchdata/pressure-engage OUT_DIR=/tmp/engage-before npx tsx bench/engagement-dump.ts
 * DUMP_ONLY, a regular expression, chooses requests by name (e.g. 'counts|weekly'). Prints each request's wall and
 * CPU ms (this process's: the server and chDB run in it).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { BENCH_KEY, startBenchServer } from './lib/bench-server.js'

const out = process.env.OUT_DIR ?? '/tmp/engagement-dump'
mkdirSync(out, { recursive: true })
const bench = await startBenchServer('pressure')
const END = '2026-11-30T00:00:00.000Z'
const requests: Array<[string, string, string?]> = [
  ['counts-end', `/v1/engagement?at=${END}`],
  ['counts-now', `/v1/engagement?at=2026-12-08T00:00:00.000Z`],
  ['counts-mid', `/v1/engagement?at=2026-11-03T13:17:00.000Z&activeDays=10&inactiveDays=40&minSends=2`],
  ['counts-promo-end', `/v1/engagement?at=${END}&category=promotion`],
  ['counts-news-past', `/v1/engagement?at=2026-11-27T06:00:00.000Z&category=newsletter`],
  ['weekly', `/v1/engagement?at=${END}&from=2026-10-01T00:00:00.000Z`],
  ['audience-inactive-end', `/v1/audience?status=inactive&at=${END}`],
  ['audience-active-lapsing-past', `/v1/audience?status=active,lapsing,dormant&at=2026-11-27T06:00:00.000Z`, 'text/csv'],
  ['audience-promo-now', `/v1/audience?status=active,never_engaged&category=promotion&at=2026-12-08T00:00:00.000Z`],
  ...['r4242', 'r1', 'r599999', 'r777777', 'r123456'].map((r): [string, string] => [`recipient-${r}`, `/v1/recipients/${r}?at=2026-11-28T12:00:00.000Z`]),
]
const only = process.env.DUMP_ONLY ? new RegExp(process.env.DUMP_ONLY) : null
for (const [name, path, accept] of requests) {
  if (only && !only.test(name)) continue
  const t = performance.now()
  const used = process.cpuUsage()
  const res = await fetch(bench.base + path, { headers: { authorization: `Bearer ${BENCH_KEY}`, accept: accept ?? 'application/json' } })
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.toString().slice(0, 300)}`)
  writeFileSync(`${out}/${name}`, body)
  const cpu = process.cpuUsage(used)
  console.log(`${name.padEnd(32)} ${body.length} bytes ${(performance.now() - t).toFixed(0)} ms ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU`)
}
await bench.stop()
