/*
 * Where a click's CPU goes in the full server: sillage (WORKERS=1, embedded chDB and PGlite)
 * under DURATION seconds of clicks, CPU per click by thread name (event loop and libuv pool,
 * chDB's merges and query pipelines). For the req/s comparison with the bare server, see redirect.ts.
 *
 *   npx tsx bench/cpu-threads.ts                  # DURATION=8, 50 connections
 *   BATCH_SIZE=5000 npx tsx bench/cpu-threads.ts  # any server setting passes through the environment
 */
import { log, makeFixture, round, startSillage } from './lib/runner.js'
import { perThread, threadTicks } from './lib/threads.js'

const durationS = Number(process.env.DURATION ?? 8)
const sillage = await startSillage()
try {
  const f = await makeFixture(sillage, { campaign: 'bench-cpu', links: 10, recipients: 3000, linkUrl: (i) => `https://shop.example.com/p/${i}` })
  const target = { name: 'sillage /c', url: sillage.url, paths: f.clicks }
  await round(target, 2, 50)
  const pid = sillage.child.pid!
  const before = threadTicks(pid)
  const r = await round(target, durationS, 50)
  const after = threadTicks(pid)
  const clicks = Math.round(r.rps * durationS)
  log(`cpu by thread: ${Math.round(r.rps)} clicks/s for ${durationS} s (p99 ${r.p99} ms)`)
  for (const line of perThread(before, after, clicks, 'click')) log(line)
} finally {
  await sillage.stop()
}
process.exit(0)
