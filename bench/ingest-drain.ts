/*
 * Ingest, the writer alone: EVENTS journal lines (realistic clicks: 40 distinct user agents,
 * 3000 recipients) written to a fresh journal, then the writer drains them into the embedded
 * ClickHouse; prints events/s of the drain and the main thread's busy time per event (event-loop
 * utilisation: what ingestion takes from an edge in the same process). Median of ROUNDS drains.
 *
 *   npx tsx bench/ingest-drain.ts                 # EVENTS=200000 BATCH_SIZE=10000 ROUNDS=3
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeEvent, type TrackedEvent } from '../src/events/event.js'
import { Journal } from '../src/events/journal.js'
import { EventWriter } from '../src/events/writer.js'
import { createLogger } from '../src/logger.js'
import { createEventStore } from '../src/store/clickhouse.js'
import { migrateClickHouse } from '../src/store/clickhouse-migrate.js'
import { log, median } from './lib/runner.js'

const EVENTS = Number(process.env.EVENTS ?? 200_000)
const BATCH = Number(process.env.BATCH_SIZE ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const dir = mkdtempSync(join(tmpdir(), 'sillage-ingest-'))
const logger = createLogger('warn')
const store = createEventStore({ database: 'bench_ingest', path: join(dir, 'clickhouse') })
await store.client.command({ query: 'CREATE DATABASE IF NOT EXISTS bench_ingest' })
await migrateClickHouse(store)

const uas = Array.from({ length: 40 }, (_, i) =>
  i % 4 === 0
    ? 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1' + (20 + i) + '.0.0.0 Safari/537.36'
    : i % 4 === 1
      ? 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_' + i + ' like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
      : i % 4 === 2
        ? 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.' + (17000 + i) + '; Pro)'
        : 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.' + i + ' Safari/605.1.15',
)
function event(i: number): TrackedEvent {
  return {
    eventId: 'bench-' + i.toString(36), type: 'click', ts: 1_760_000_000_000 + i, campaignId: 'bench-ingest', linkId: 'link' + (i % 10),
    recipientId: 'r' + (i % 3000), tokenValid: true, method: 'GET', ip: '203.0.113.0', userAgent: uas[i % uas.length]!, referer: '',
    prefetch: '', class: 'human', reasons: i % 7 === 0 ? ['burst', 'datacenter'] : [], proxy: '', classifierVersion: 3,
    amount: '', currency: '', orderId: '', extra: '',
  }
}

const rates: number[] = []
const busyPerEvent: number[] = []
const cpuPerEvent: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const jdir = join(dir, 'journal-' + round)
  const journal = new Journal({ dir: jdir, fsyncIntervalMs: 60_000, maxBytes: 1 << 30, log: logger })
  for (let i = 0; i < EVENTS; i += 5000) {
    const chunk: Promise<void>[] = []
    for (let j = i; j < Math.min(EVENTS, i + 5000); j++) chunk.push(journal.appendAsync(encodeEvent(event(round * EVENTS + j))))
    await Promise.all(chunk)
  }
  journal.close()
  // A reopened journal writes a new segment, so the writer sees the events as a finished segment.
  const reopened = new Journal({ dir: jdir, fsyncIntervalMs: 60_000, maxBytes: 1 << 30, log: logger })
  const writer = new EventWriter({ journal: reopened, store, batchSize: BATCH, flushIntervalMs: 3_600_000, log: logger })
  const elu0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await writer.start()
  await writer.flush()
  const s = (performance.now() - t0) / 1000
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = process.cpuUsage(cpu0)
  await writer.stop()
  reopened.close()
  rates.push(writer.stats.inserted / s)
  const busyUs = (elu.active * 1000) / writer.stats.inserted
  busyPerEvent.push(busyUs)
  // Every thread of the process: the writer's JavaScript and chDB's parsing, sorting, projections and compression.
  const cpuUs = (cpu.user + cpu.system) / writer.stats.inserted
  cpuPerEvent.push(cpuUs)
  log(`  round ${round + 1}: ${writer.stats.inserted} events in ${s.toFixed(2)} s = ${Math.round(writer.stats.inserted / s)} events/s, ${writer.stats.batches} batches, main thread busy ${busyUs.toFixed(2)} µs/event, process CPU ${cpuUs.toFixed(2)} µs/event`)
}
log(`ingest drain (${EVENTS} events, batches of ${BATCH}): median ${Math.round(median(rates))} events/s, main thread busy ${median(busyPerEvent).toFixed(2)} µs/event, process CPU ${median(cpuPerEvent).toFixed(2)} µs/event`)
await store.close()
// chDB may still hold files of the directory: its removal is best effort.
try {
  rmSync(dir, { recursive: true, force: true })
} catch {
  /* left in the temp dir */
}
process.exit(0)
