/*
 * Ingest: clicks at the edge's full rate for DURATION seconds while /metrics is sampled;
 * prints the edge's events/s, the writer's sustained inserted events/s, the largest lag
 * (journaled − inserted) and how long the backlog takes to drain after the load stops.
 *
 *   npm run bench:ingest                 # WORKERS=1, 20 s, 50 connections
 *   SILLAGE_WORKERS=2 DURATION=20 npm run bench:ingest
 */
import autocannon from 'autocannon'
import { ADMIN_KEY, log, makeFixture, startSillage } from './lib/runner.js'

const durationS = Number(process.env.DURATION ?? 20)
const workers = process.env.SILLAGE_WORKERS ?? '1'
const sillage = await startSillage({ WORKERS: workers })
try {
  const f = await makeFixture(sillage, { campaign: 'bench-ingest', links: 10, recipients: 3000, linkUrl: (i) => `https://shop.example.com/p/${i}` })
  const sample = async () => {
    const text = await (await fetch(sillage.url + '/metrics', { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
    const v = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
    return { t: performance.now(), journaled: v('sillage_events_journaled_total'), inserted: v('sillage_events_inserted_total'), pending: v('sillage_journal_pending_bytes') }
  }
  const samples: Awaited<ReturnType<typeof sample>>[] = [await sample()]
  // A sample lost to a keep-alive race is skipped, not fatal.
  const timer = setInterval(() => void sample().then((s) => samples.push(s), () => undefined), 500)
  const r = await autocannon({ url: sillage.url, connections: 50, duration: durationS, requests: f.clicks.slice(0, 2000).map((path) => ({ method: 'GET', path })) })
  clearInterval(timer)
  const end = await sample()
  const first = samples[0]!
  const loadS = (end.t - first.t) / 1000
  let maxLag = 0
  let maxPending = 0
  for (const s of [...samples, end]) {
    maxLag = Math.max(maxLag, s.journaled - s.inserted)
    maxPending = Math.max(maxPending, s.pending)
  }
  const t0 = performance.now()
  let last = end
  while (last.inserted < last.journaled && performance.now() - t0 < 120_000) {
    await new Promise((res) => setTimeout(res, 100))
    last = await sample()
  }
  const drainS = (performance.now() - t0) / 1000
  log(`ingest (WORKERS=${workers}, ${durationS}s, 50 connections):`)
  log(`  edge: ${Math.round(r.requests.average)} req/s (p99 ${r.latency.p99} ms), ${end.journaled - first.journaled} events journaled`)
  log(`  writer during load: ${Math.round((end.inserted - first.inserted) / loadS)} events/s inserted`)
  log(`  largest lag: ${maxLag} events (${maxPending} journal bytes pending); drained ${drainS.toFixed(1)} s after the load stopped`)
  log(`  overall: ${last.inserted - first.inserted} events in ${(loadS + drainS).toFixed(1)} s = ${Math.round((last.inserted - first.inserted) / (loadS + drainS))} events/s`)
} finally {
  await sillage.stop()
}
