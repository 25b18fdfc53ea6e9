/*
 * Latency of the dashboard's pages on the embedded engine, on the metrics benchmark's data set
 * (1 M sends, 10 M events over 10 campaigns by default, from bench/lib/metrics-data.ts): signs
 * in through the form, then fetches each page several times and prints median and p90.
 *
 *   npx tsx bench/dashboard.ts
 *   DATA_DIR=/tmp/bench-metrics BENCH_REUSE=1 npx tsx bench/dashboard.ts   (a data set generated earlier)
 */
import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { startRuntime } from '../src/runtime.js'
import { createServer } from '../src/server.js'
import { listCampaigns } from '../src/services/campaigns.js'
import { generateMetricsData } from './lib/metrics-data.js'

const SENDS = Number(process.env.BENCH_SENDS ?? 1_000_000)
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000)
const CAMPAIGNS = Number(process.env.BENCH_CAMPAIGNS ?? 10)
const RUNS = Number(process.env.BENCH_RUNS ?? 9)
const KEY = 'bench-admin-key-0123456789'

const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sillage-bench-dashboard-'))
const config = parseConfig({ DATA_DIR: dataDir, TRACKER_ADMIN_KEY: KEY, PORT: '0', CLASSIFY_PASS_INTERVAL_MS: '0', LOG_LEVEL: 'warn' })
const deps = await startRuntime({ config, log: createLogger('warn') })
const { server } = createServer(deps)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const existing = process.env.BENCH_REUSE ? (await listCampaigns(deps, { limit: 1000, offset: 0 })).map((c) => c.id).filter((id) => id.startsWith('bench-')) : []
let campaigns = existing
if (campaigns.length > 0) {
  console.log(`reusing ${campaigns.length} campaign(s) in ${dataDir}`)
} else {
  const t = performance.now()
  campaigns = (await generateMetricsData(deps, { campaigns: CAMPAIGNS, sends: SENDS, events: EVENTS })).campaigns
  console.log(`generated ${SENDS} sends and ${EVENTS} events over ${CAMPAIGNS} campaign(s) in ${((performance.now() - t) / 1000).toFixed(1)} s (DATA_DIR ${dataDir})`)
}

const signIn = await fetch(`${base}/dashboard/sign-in`, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ key: KEY }),
})
const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!
if (signIn.status !== 303 || !cookie) throw new Error(`sign-in failed: ${signIn.status}`)

const c = campaigns[Math.min(3, campaigns.length - 1)]!
const other = campaigns[Math.min(4, campaigns.length - 1)]!
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null
const pages: Array<[string, string]> = [
  ['campaign page', `/dashboard/campaigns/${c}`],
  ['campaign page traffic=all', `/dashboard/campaigns/${c}?traffic=all`],
  ['campaign page tz=Europe/Paris sort=clicks', `/dashboard/campaigns/${c}?tz=Europe/Paris&sort=clicks`],
  ['campaigns list', '/dashboard'],
  ['compare (2 campaigns)', `/dashboard/compare?campaigns=${c}&campaigns=${other}`],
  ['recipient timeline', '/dashboard/recipients?id=r1234'],
]

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
console.log(`\n${'page'.padEnd(44)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'bytes'.padStart(10)}`)
for (const [name, path] of pages) {
  if (only && !only.test(name)) continue
  const times: number[] = []
  let bytes = 0
  // One warm-up request, then the measured runs, one at a time (a person loading a page).
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now()
    const res = await fetch(base + path, { headers: { cookie } })
    const body = await res.arrayBuffer()
    const ms = performance.now() - t0
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
    bytes = body.byteLength
    if (i > 0) times.push(ms)
  }
  console.log(`${name.padEnd(44)} ${quantile(times, 0.5).toFixed(1).padStart(10)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${String(bytes).padStart(10)}`)
}

server.close()
await deps.stop()
process.exit(0)
