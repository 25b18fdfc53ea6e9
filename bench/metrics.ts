/*
 * Latency of the metrics API on the embedded engine: generates 1 M sends and 10 M events
 * (10 campaigns of 100 k recipients by default) in a temp DATA_DIR, then calls each endpoint
 * through the app's HTTP API and prints the median and p90 of several runs, and the median CPU
 * time of the process per request (the engine runs in it: a figure that other load on the
 * machine disturbs far less than the latency).
 *
 *   npm run bench:metrics
 *   DATA_DIR=/tmp/bench-metrics BENCH_REUSE=1 npm run bench:metrics   (generate once, measure again)
 *   BENCH_SENDS=1000000 BENCH_EVENTS=10000000 BENCH_CAMPAIGNS=1 BENCH_RUNS=9 npm run bench:metrics
 */
import { BENCH_KEY, BENCH_SIZE, metricsDataSet, startBenchServer } from './lib/bench-server.js'

const bench = await startBenchServer('metrics')
const { deps, base } = bench
const data = await metricsDataSet(bench)
const CAMPAIGN_COUNT = data.campaigns.length
// Measure a settled table, as a dashboard would see it hours after a send: the background merges
// (and their projection rebuilds) right after a 10 M-row insert would otherwise time the merges.
let t = performance.now()
for (;;) {
  const rs = await deps.events.client.query({ query: `SELECT count() AS n FROM system.merges WHERE database = {db:String}`, query_params: { db: deps.events.db }, format: 'JSONEachRow' })
  const [row] = await rs.json<{ n: number }>()
  if (Number(row?.n ?? 0) === 0 || performance.now() - t > 300_000) break
  await new Promise((r) => setTimeout(r, 1000))
}
console.log(`merges settled in ${((performance.now() - t) / 1000).toFixed(1)} s`)

const c = data.campaigns[Math.min(3, CAMPAIGN_COUNT - 1)]!
const other = data.campaigns[Math.min(4, CAMPAIGN_COUNT - 1)]!
const link = data.links[c]![0]!
const endpoints: Array<[string, string]> = [
  ['stats', `/v1/campaigns/${c}/stats`],
  ['stats traffic=all', `/v1/campaigns/${c}/stats?traffic=all`],
  ['links/stats', `/v1/campaigns/${c}/links/stats`],
  ['segments by=segment', `/v1/campaigns/${c}/segments?by=segment`],
  ['segments by=variant', `/v1/campaigns/${c}/segments?by=variant`],
  ['segments by=attribute:country', `/v1/campaigns/${c}/segments?by=attribute:country`],
  ['segments by=segment&linkId', `/v1/campaigns/${c}/segments?by=segment&linkId=${link}`],
  ['compare campaigns (2)', `/v1/compare?campaigns=${c},${other}`],
  ['compare by=variant', `/v1/campaigns/${c}/compare?by=variant`],
  ['projection', `/v1/campaigns/${c}/projection?listSize=1000000`],
  ['timeseries hour', `/v1/campaigns/${c}/timeseries?metric=opens&interval=hour&tz=Europe/Paris`],
  ['timeseries unique_clickers day', `/v1/campaigns/${c}/timeseries?metric=unique_clickers&interval=day`],
  ['timing', `/v1/campaigns/${c}/timing?tz=Europe/Paris`],
  ['timing by=segment', `/v1/campaigns/${c}/timing?by=segment`],
  ['timeline (first page)', `/v1/recipients/r1234/timeline`],
  ['timeline one campaign', `/v1/recipients/r1234/timeline?campaignId=${c}`],
  ['audience opened=false (NDJSON)', `/v1/campaigns/${c}/audience?opened=false`],
  ['audience clicked=L (CSV)', `/v1/campaigns/${c}/audience?clicked=${link}`],
]

const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
console.log(`\n${'endpoint'.padEnd(34)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'cpu ms'.padStart(8)} ${'bytes'.padStart(10)}`)
for (const [name, path] of endpoints) {
  if (only && !only.test(name)) continue
  const times: number[] = []
  const cpu: number[] = []
  let bytes = 0
  for (let i = 0; i < BENCH_SIZE.runs + 2; i++) {
    t = performance.now()
    const used = process.cpuUsage()
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${BENCH_KEY}`, accept: name.includes('CSV') ? 'text/csv' : 'application/json' } })
    const body = await res.arrayBuffer()
    const ms = performance.now() - t
    const spent = process.cpuUsage(used)
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
    bytes = body.byteLength
    if (i >= 2) {
      times.push(ms)
      cpu.push((spent.user + spent.system) / 1000)
    }
  }
  console.log(`${name.padEnd(34)} ${quantile(times, 0.5).toFixed(1).padStart(10)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${quantile(cpu, 0.5).toFixed(1).padStart(8)} ${String(bytes).padStart(10)}`)
}

await bench.stop()
process.exit(0)
