/*
 * Ingest at a steady rate, as under load: RATE click events/s (bench/lib/ingest.ts's mix) appended to a journal for SECS seconds
 * while the writer runs with its production settings (a batch when BATCH_SIZE lines are waiting
 * or every FLUSH_INTERVAL_MS), then flushed. Prints the process's CPU per event by thread
 * (the JS appending, the writer, chDB's insert, its merges), the inserts made and the parts left.
 * Unlike ingest-drain.ts (one backlog drained at once), this shows what batching does to merges.
 *
 *   npx tsx bench/ingest-steady.ts                        # RATE=30000 SECS=15
 *   BATCH_SIZE=5000 npx tsx bench/ingest-steady.ts        # the old default
 *   DROP_PROJECTIONS=p_by_recipient npx tsx bench/ingest-steady.ts   # what a projection costs at insert
 */
import { join } from 'node:path'
import { encodeEvent } from '../src/events/event.js'
import { Journal } from '../src/events/journal.js'
import { EventWriter } from '../src/events/writer.js'
import { createLogger } from '../src/logger.js'
import { queryRows } from '../src/store/clickhouse.js'
import { clickEvent, ingestStore } from './lib/ingest.js'
import { log } from './lib/runner.js'
import { perThread, threadTicks } from './lib/threads.js'

const RATE = Number(process.env.RATE ?? 30_000)
const SECS = Number(process.env.SECS ?? 15)
const BATCH = Number(process.env.BATCH_SIZE ?? 50_000)
const FLUSH = Number(process.env.FLUSH_INTERVAL_MS ?? 1000)
const { dir, store, close } = await ingestStore('bench_steady')
const logger = createLogger('warn')
for (const p of (process.env.DROP_PROJECTIONS ?? '').split(',').filter(Boolean)) {
  await store.client.command({ query: `ALTER TABLE bench_steady.events DROP PROJECTION ${p} SETTINGS mutations_sync = 2` })
}
let n = 0
const journal = new Journal({ dir: join(dir, 'journal'), fsyncIntervalMs: 1000, maxBytes: 1 << 30, log: logger })
const writer = new EventWriter({ journal, store, batchSize: BATCH, flushIntervalMs: FLUSH, log: logger })
await writer.start()
const before = threadTicks('self')
const t0 = Date.now()
await new Promise<void>((done) => {
  const tick = setInterval(() => {
    for (let i = 0; i < RATE / 100; i++) journal.append(encodeEvent(clickEvent(n++, 'bench-steady', Date.now())), () => undefined)
    if (Date.now() - t0 >= SECS * 1000) {
      clearInterval(tick)
      done()
    }
  }, 10)
})
await writer.flush()
const after = threadTicks('self')
const [parts] = await queryRows<{ parts: number; level: number }>(
  store,
  "SELECT count() AS parts, max(level) AS level FROM system.parts WHERE database = 'bench_steady' AND table = 'events' AND active",
)
log(`ingest steady: ${n} events at ${RATE}/s for ${SECS} s, BATCH_SIZE=${BATCH} FLUSH_INTERVAL_MS=${FLUSH}: ${writer.stats.batches} inserts, ${parts?.parts} active parts (max level ${parts?.level})`)
for (const line of perThread(before, after, n, 'event')) log(line)
await writer.stop()
journal.close()
await close()
process.exit(0)
