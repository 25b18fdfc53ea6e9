/*
 * Ingest, the writer alone: EVENTS journal lines (realistic clicks: 40 distinct user agents,
 * 3000 recipients) written to a fresh journal, then the writer drains them into the embedded
 * ClickHouse; prints events/s of the drain and the main thread's busy time per event (event-loop
 * utilisation: what ingestion takes from an edge in the same process). Median of ROUNDS drains.
 *
 *   npx tsx bench/ingest-drain.ts                 # EVENTS=200000 BATCH_SIZE=10000 ROUNDS=3
 */
import { join } from 'node:path'
import { encodeEvent } from '../src/events/event.js'
import { Journal } from '../src/events/journal.js'
import { EventWriter } from '../src/events/writer.js'
import { createLogger } from '../src/logger.js'
import { clickEvent, ingestStore } from './lib/ingest.js'
import { log, median } from './lib/runner.js'

const EVENTS = Number(process.env.EVENTS ?? 200_000)
const BATCH = Number(process.env.BATCH_SIZE ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const { dir, store, close } = await ingestStore('bench_ingest')
const logger = createLogger('warn')

const rates: number[] = []
const busyPerEvent: number[] = []
const cpuPerEvent: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const jdir = join(dir, 'journal-' + round)
  const journal = new Journal({ dir: jdir, fsyncIntervalMs: 60_000, maxBytes: 1 << 30, log: logger })
  for (let i = 0; i < EVENTS; i += 5000) {
    const chunk: Promise<void>[] = []
    for (let j = i; j < Math.min(EVENTS, i + 5000); j++) chunk.push(journal.appendAsync(encodeEvent(clickEvent(round * EVENTS + j, 'bench-ingest', 1_760_000_000_000 + j))))
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
await close()
process.exit(0)
