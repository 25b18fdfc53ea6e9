/*
 * Webhook delivery rates to a local receiver, with the edge under load at the same time; memory while
 * an endpoint is down and clicks keep coming; the latency settle: verdict adds (default pass settings).
 *
 *   npx tsx bench/webhooks.ts
 *   DURATION=10 CONNECTIONS=20 BATCH=500 npx tsx bench/webhooks.ts
 *   PHASES=batched,single npx tsx bench/webhooks.ts      (any of batched, single, down, settle)
 *   CLASSIFY_PASS_INTERVAL_MS=10000 PHASES=settle npx tsx bench/webhooks.ts   (the pass's settings pass through)
 *   CPU_PROF=/tmp/prof PHASES=single EDGE_DURING_DRAIN=0 npx tsx bench/webhooks.ts   (server profile, written when it stops)
 *   WORKERS=2 EDGE_RATE=3000 PHASES=batched,single npx tsx bench/webhooks.ts   (npm start's layout on 2 cores; clicks at 3,000/s during the drain)
 *
 * sillage runs as a child process (bench/lib/runner.ts); the receiver and autocannon run here.
 * Rates: a backlog is built while the endpoint is disabled (that round is the edge's rate without a
 * drain), then the endpoint is enabled and, once the first events arrive, autocannon clicks again;
 * rate = events received / time from enabling to the last one, and the rate during the clicks apart.
 * TIMELINE=1 prints the events received in each second from enabling.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CLOCK_TICKS, threadTicks } from './lib/threads.js'
import { ADMIN_KEY, log, makeFixture, round, runOptionsFromEnv, startSillage, waitFor, type Sillage } from './lib/runner.js'

const opts = runOptionsFromEnv()
const BATCH = Number(process.env.BATCH ?? 500)
/** CPU_PROF=<dir>: the server runs with --cpu-prof (the profile is written when it stops). */
const cpuProf = process.env.CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`] : []
const PHASES = new Set((process.env.PHASES ?? 'batched,single,down,settle').split(','))

/** The server's threads' CPU over a span, as % of a core by thread name (the event loop apart), largest first. */
function threadShares(before: Map<string, number>, after: Map<string, number>, seconds: number): string {
  const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1])
  return rows.slice(0, 5).map(([k, v]) => `${k} ${((v / CLOCK_TICKS / seconds) * 100).toFixed(0)} %`).join(', ')
}

/** User + system CPU seconds of a process (its threads included), from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

/** EDGE_DURING_DRAIN=0: drain without clicks at the same time, so the CPU per event is the delivery's alone. */
const EDGE_DURING_DRAIN = process.env.EDGE_DURING_DRAIN !== '0'
/** EDGE_RATE=3000: the clicks during the drain at that many per second (a campaign's busy hour), not as many as the machine answers. */
const EDGE_RATE = process.env.EDGE_RATE ? Number(process.env.EDGE_RATE) : undefined
/** WORKERS=2 (or CLUSTER=1): the layout `npm start` takes on a multi-core machine, the edge in worker processes; the runner's default is one process. */
const layout = { ...(process.env.WORKERS ? { WORKERS: process.env.WORKERS } : {}), ...(process.env.CLUSTER ? { CLUSTER: process.env.CLUSTER } : {}) }

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** Counts distinct event ids received (a batch's items one by one), with the time of each first receipt. */
async function startReceiver() {
  const firstSeen = new Map<string, number>()
  let requests = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests++
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; type: string; data: unknown }
      const now = performance.now()
      const items = body.type === 'batch' ? (body.data as Array<{ id: string }>) : [body]
      for (const e of items) if (!firstSeen.has(e.id)) firstSeen.set(e.id, now)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    firstSeen,
    get requests() {
      return requests
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

/** DELETE answers 204 without a body (the runner's api() parses JSON). */
async function deleteEndpoint(s: Sillage, id: string): Promise<void> {
  const r = await fetch(`${s.url}/v1/webhooks/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  if (r.status !== 204) throw new Error(`DELETE webhook ${id}: ${r.status}`)
}

async function humanClicks(s: Sillage, campaign: string): Promise<number> {
  return (await s.api('GET', `/v1/campaigns/${campaign}/stats`)).clicks.total as number
}

/** Builds a backlog while the endpoint is disabled, then enables it under a second round of clicks: events/s delivered. */
async function drainRate(s: Sillage, paths: string[], campaign: string, batch: { maxEvents: number; maxWaitMs: number } | null): Promise<void> {
  const rx = await startReceiver()
  const ep = await s.api('POST', '/v1/webhooks', { url: rx.url, events: ['email.clicked'], ...(batch ? { batch } : {}) })
  await s.api('PATCH', `/v1/webhooks/${ep.id}`, { enabled: false })
  const before = await humanClicks(s, campaign)
  // The backlog's round: the edge's rate with no drain running, to compare with the round during the drain.
  const th0 = threadTicks(s.child.pid!)
  const ta = performance.now()
  const alone = await round({ name: 'edge', url: s.url, paths, pid: s.child.pid! }, opts.durationS, opts.connections)
  log(`backlog round, no drain: the edge served ${Math.round(alone.rps)} clicks/s (p99 ${alone.p99} ms); server CPU ${((alone.cpuUs * alone.rps) / 1e4).toFixed(0)} % of a core (${threadShares(th0, threadTicks(s.child.pid!), (performance.now() - ta) / 1000)})`)
  await waitFor(async () => (await humanClicks(s, campaign)) - before > 0, 30_000)
  const pid = s.child.pid!
  const cpu0 = cpuSeconds(pid)
  const t0 = performance.now()
  await s.api('PATCH', `/v1/webhooks/${ep.id}`, { enabled: true })
  // The clicks start once the drain is under way: the first page waits behind the writer's inserts
  // (chDB runs one query at a time), which would otherwise decide what "during" measures.
  await waitFor(async () => rx.firstSeen.size > 0, 120_000)
  const edgeStart = performance.now()
  const cpuStart = cpuSeconds(pid)
  const thStart = threadTicks(pid)
  const receivedAtStart = rx.firstSeen.size
  const edge = EDGE_DURING_DRAIN ? await round({ name: 'edge', url: s.url, paths, pid }, opts.durationS, opts.connections, EDGE_RATE) : null
  const edgeEnd = performance.now()
  const edgeSeconds = (edgeEnd - edgeStart) / 1000
  const cpuEdge = cpuSeconds(pid) - cpuStart
  const threadsDuring = threadShares(thStart, threadTicks(pid), edgeSeconds)
  // Everything clicked since the endpoint was created: the backlog and what came during the drain.
  let expected = 0
  await waitFor(async () => {
    expected = (await humanClicks(s, campaign)) - before
    return rx.firstSeen.size >= expected
  }, 600_000)
  const cpu = cpuSeconds(pid) - cpu0
  let last = 0
  for (const t of rx.firstSeen.values()) if (t > last) last = t // spread overflows the stack past ~120 k events
  const seconds = (last - t0) / 1000
  let during = 0
  for (const t of rx.firstSeen.values()) if (t > edgeStart && t <= edgeEnd) during++
  if (process.env.TIMELINE) {
    // Events received per second from enabling: where the drain went fast or stalled.
    const perS: number[] = []
    for (const t of rx.firstSeen.values()) {
      const k = Math.floor((t - t0) / 1000)
      perS[k] = (perS[k] ?? 0) + 1
    }
    log(`  per second from enabling: ${Array.from(perS, (n) => n ?? 0).join(' ')}`)
  }
  if (edge)
    log(
      `  first receipt ${((edgeStart - t0) / 1000).toFixed(1)} s after enabling (${receivedAtStart} events by then); while the edge clicked (${edgeSeconds.toFixed(1)} s): ` +
        `${during} events delivered = ${Math.round(during / edgeSeconds)} events/s; server CPU ${((cpuEdge / edgeSeconds) * 100).toFixed(0)} % of a core (${threadsDuring})`,
    )
  log(
    `${batch ? `batched (${batch.maxEvents}/request)` : 'one event per request'}: ${expected} events in ${seconds.toFixed(1)} s = ` +
      `${Math.round(expected / seconds)} events/s over ${rx.requests} requests; server CPU ${((cpu * 1e6) / expected).toFixed(0)} µs per event delivered` +
      (edge ? ` (the edge's clicks included), while the edge served ${Math.round(edge.rps)} clicks/s (p99 ${edge.p99} ms)` : ', no clicks during the drain'),
  )
  await deleteEndpoint(s, ep.id)
  await rx.close()
}

/** An endpoint whose receiver is gone: RSS of the server while clicks keep coming, and deliveries waiting (bounded). */
async function downEndpoint(s: Sillage, paths: string[]): Promise<void> {
  const rx = await startReceiver()
  const url = rx.url
  await rx.close()
  const ep = await s.api('POST', '/v1/webhooks', { url, events: ['email.clicked'] })
  const pid = s.child.pid!
  for (let i = 0; i < 4; i++) {
    const r = await round({ name: 'edge', url: s.url, paths }, opts.durationS, opts.connections)
    const pending = (await s.api('GET', `/v1/webhooks/${ep.id}/deliveries?status=pending&limit=1`)).total
    log(`endpoint down, round ${i + 1}: ${Math.round(r.rps)} clicks/s, server RSS ${rssMb(pid).toFixed(0)} MB, deliveries waiting ${pending}`)
  }
  await deleteEndpoint(s, ep.id)
}

/** Click-to-receipt latency for settle: edge and settle: verdict, with the second pass at its defaults. */
async function settleLatency(): Promise<void> {
  const s = await startSillage({ WEBHOOK_ALLOW_PRIVATE: '1' })
  try {
    const edgeRx = await startReceiver()
    const verdictRx = await startReceiver()
    await s.api('POST', '/v1/webhooks', { url: edgeRx.url, events: ['email.clicked'], settle: 'edge' })
    await s.api('POST', '/v1/webhooks', { url: verdictRx.url, events: ['email.clicked'] })
    const fx = await makeFixture(s, { campaign: 'settle', links: 1, recipients: 8, linkUrl: () => 'https://shop.example/' })
    // A click within 5 s of its send is a scanner's (too_soon_after_send): a person clicks later.
    await new Promise((res) => setTimeout(res, 6000))
    const sentAt = new Map<string, number>()
    for (const path of fx.clicks) {
      const r = await fetch(s.url + path, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' } })
      await r.arrayBuffer()
      sentAt.set(path, performance.now())
      await new Promise((res) => setTimeout(res, 4000))
    }
    await waitFor(async () => verdictRx.firstSeen.size >= fx.clicks.length && edgeRx.firstSeen.size >= fx.clicks.length, 300_000)
    // Clicks were made in order: receipt order matches.
    const clickTimes = [...sentAt.values()]
    const lat = (rx: { firstSeen: Map<string, number> }) => [...rx.firstSeen.values()].sort((a, b) => a - b).map((t, i) => (t - clickTimes[i]!) / 1000)
    const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} s, min ${Math.min(...xs).toFixed(1)} s, max ${Math.max(...xs).toFixed(1)} s`
    log(`settle: edge, click to receipt: ${fmt(lat(edgeRx))}`)
    const pass = (name: string) => `${Number(process.env[name] ?? 30_000) / 1000} s`
    log(`settle: verdict (CLASSIFY_PASS_DELAY_MS ${pass('CLASSIFY_PASS_DELAY_MS')}, INTERVAL ${pass('CLASSIFY_PASS_INTERVAL_MS')}), click to receipt: ${fmt(lat(verdictRx))}`)
    await edgeRx.close()
    await verdictRx.close()
  } finally {
    await s.stop()
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

if (PHASES.has('batched') || PHASES.has('single') || PHASES.has('down')) {
  // No second pass: these phases measure delivery, and settle: verdict would wait for it.
  const s = await startSillage({ WEBHOOK_ALLOW_PRIVATE: '1', CLASSIFY_PASS_INTERVAL_MS: '0', ...layout }, cpuProf)
  try {
    const fx = await makeFixture(s, { campaign: 'hooks', links: 10, recipients: 3000, linkUrl: (i) => `https://shop.example/p/${i}` })
    log(`load: ${opts.connections} connections, ${opts.durationS} s per round; receiver on loopback answers 204`)
    if (PHASES.has('batched')) await drainRate(s, fx.clicks, 'hooks', { maxEvents: BATCH, maxWaitMs: 200 })
    if (PHASES.has('single')) await drainRate(s, fx.clicks, 'hooks', null)
    if (PHASES.has('down')) await downEndpoint(s, fx.clicks)
  } finally {
    await s.stop()
  }
}
if (PHASES.has('settle')) await settleLatency()
