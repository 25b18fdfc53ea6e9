/*
 * Latency of the dashboard's pages on the embedded engine, on the metrics benchmark's data set
 * (1 M sends, 10 M events over 10 campaigns by default, from bench/lib/metrics-data.ts): signs
 * in through the form, then fetches each page several times and prints median and p90, and the
 * median CPU time of the process per page (the engine runs in it: a figure that other load on
 * the machine disturbs far less than the latency).
 *
 *   npx tsx bench/dashboard.ts
 *   DATA_DIR=/tmp/bench-metrics BENCH_REUSE=1 npx tsx bench/dashboard.ts   (a data set generated earlier)
 */
import { BENCH_KEY, BENCH_SIZE, metricsDataSet, startBenchServer } from './lib/bench-server.js'

const bench = await startBenchServer('dashboard')
const { base } = bench
const { campaigns } = await metricsDataSet(bench)

const signIn = await fetch(`${base}/dashboard/sign-in`, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ key: BENCH_KEY }),
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
console.log(`\n${'page'.padEnd(44)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'cpu ms'.padStart(8)} ${'bytes'.padStart(10)}`)
for (const [name, path] of pages) {
  if (only && !only.test(name)) continue
  const times: number[] = []
  const cpu: number[] = []
  let bytes = 0
  // One warm-up request, then the measured runs, one at a time (a person loading a page).
  for (let i = 0; i <= BENCH_SIZE.runs; i++) {
    const t0 = performance.now()
    const used = process.cpuUsage()
    const res = await fetch(base + path, { headers: { cookie } })
    const body = await res.arrayBuffer()
    const ms = performance.now() - t0
    const spent = process.cpuUsage(used)
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
    bytes = body.byteLength
    if (i > 0) {
      times.push(ms)
      cpu.push((spent.user + spent.system) / 1000)
    }
  }
  console.log(`${name.padEnd(44)} ${quantile(times, 0.5).toFixed(1).padStart(10)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${quantile(cpu, 0.5).toFixed(1).padStart(8)} ${String(bytes).padStart(10)}`)
}

await bench.stop()
process.exit(0)
