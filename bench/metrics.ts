/*
 * Latency of the metrics API on the embedded engine: generates 1 M sends and 10 M events
 * (10 campaigns of 100 k recipients by default) in a temp DATA_DIR, then calls each endpoint
 * through the app's HTTP API and prints the median and p90 of several runs.
 *
 *   npm run bench:metrics
 *   BENCH_SENDS=1000000 BENCH_EVENTS=10000000 BENCH_CAMPAIGNS=1 BENCH_RUNS=9 npm run bench:metrics
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { startRuntime } from '../src/runtime.js'
import { createServer } from '../src/server.js'
import { generateMetricsData } from './lib/metrics-data.js'

const SENDS = Number(process.env.BENCH_SENDS ?? 1_000_000)
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000)
const CAMPAIGNS = Number(process.env.BENCH_CAMPAIGNS ?? 10)
const RUNS = Number(process.env.BENCH_RUNS ?? 9)
const KEY = 'bench-admin-key-0123456789'

const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sillage-bench-metrics-'))
const config = parseConfig({ DATA_DIR: dataDir, TRACKER_ADMIN_KEY: KEY, PORT: '0', CLASSIFY_PASS_INTERVAL_MS: '0', LOG_LEVEL: 'warn' })
const deps = await startRuntime({ config, log: createLogger('warn') })
const { server } = createServer(deps)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

let t = performance.now()
const data = await generateMetricsData(deps, { campaigns: CAMPAIGNS, sends: SENDS, events: EVENTS })
console.log(`generated ${SENDS} sends and ${EVENTS} events over ${CAMPAIGNS} campaign(s) in ${((performance.now() - t) / 1000).toFixed(1)} s (DATA_DIR ${dataDir})`)

const c = data.campaigns[Math.min(3, CAMPAIGNS - 1)]!
const other = data.campaigns[Math.min(4, CAMPAIGNS - 1)]!
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
console.log(`\n${'endpoint'.padEnd(34)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'bytes'.padStart(10)}`)
for (const [name, path] of endpoints) {
  if (only && !only.test(name)) continue
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < RUNS + 2; i++) {
    t = performance.now()
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${KEY}`, accept: name.includes('CSV') ? 'text/csv' : 'application/json' } })
    const body = await res.arrayBuffer()
    const ms = performance.now() - t
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
    bytes = body.byteLength
    if (i >= 2) times.push(ms)
  }
  console.log(`${name.padEnd(34)} ${quantile(times, 0.5).toFixed(1).padStart(10)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${String(bytes).padStart(10)}`)
}

server.closeAllConnections()
server.close()
await deps.stop()
if (!process.env.DATA_DIR && !process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
