import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EventStore } from '../store/clickhouse.js'

/** Rows per batch number: above BATCH_SIZE's maximum (100,000), so batch << 17 | row never overlaps. */
export const SEQ_ROW_BITS = 17
const ROWS = 2 ** SEQ_ROW_BITS

/** The first seq of a batch. Plain numbers: batch numbers stay far below 2^36, so seq below 2^53. */
export function seqBase(batch: number): number {
  return batch * ROWS
}

/**
 * The insert order of every stored event, one per process that owns the stores: each writer (and
 * the outbox's own inserts) takes a batch number before its insert and gives it back after. A
 * reader may go up to `committed`, the highest seq below which no batch is still in flight, so a
 * batch that lands late (a retried insert, a slower writer) is never jumped by a cursor.
 *
 * A batch number is recorded with its journal range in the writer's checkpoint before the insert,
 * so a replay after a crash inserts the same seq values under the same dedup token.
 */
export class EventSequence {
  private inFlight = new Set<number>()
  private listeners: Array<() => void> = []
  /** (time, committed) after each change: what was committed at a past time, for the settle watermark. */
  private samples: Array<{ t: number; seq: number }> = []

  constructor(private next: number, private readonly clock: () => number = Date.now) {
    this.samples.push({ t: clock(), seq: this.committed })
  }

  /**
   * From the stores: one past the highest batch stored, and every batch a writer checkpoint under
   * `journalDir` (its own and its workers' directories) recorded as pending, held in flight until
   * its writer replays it.
   */
  static async load(store: EventStore, journalDir: string, clock: () => number = Date.now): Promise<EventSequence> {
    const rs = await store.client.query({
      query: `SELECT greatest((SELECT max(seq) FROM ${store.db}.events), (SELECT max(seq) FROM ${store.db}.outbox_events)) AS m`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    })
    const [row] = await rs.json<{ m: number | string }>()
    const maxBatch = Math.floor(Number(row?.m ?? 0) / ROWS)
    const pending = pendingBatches(journalDir)
    const seq = new EventSequence(Math.max(maxBatch, ...pending) + 1, clock)
    for (const b of pending) seq.inFlight.add(b)
    seq.sample()
    return seq
  }

  /** Takes a batch number (or holds a recorded one again, for a replay). */
  reserve(recorded?: number): number {
    const b = recorded ?? this.next++
    if (b >= this.next) this.next = b + 1
    this.inFlight.add(b)
    return b
  }

  /** The batch's rows are stored (or it had none): readers may pass it once nothing before it is in flight. */
  commit(batch: number): void {
    if (!this.inFlight.delete(batch)) return
    this.sample()
    for (const l of this.listeners) l()
  }

  /** The highest seq a reader may take: every batch at or below it is stored. */
  get committed(): number {
    let low = this.next
    for (const b of this.inFlight) if (b < low) low = b
    return seqBase(low) - 1
  }

  /**
   * What was committed at time `t` (every event with seq at or below it was stored by then), or -1
   * when nothing is known that early (a process started after t).
   */
  committedAt(t: number): number {
    let found = -1
    let keepFrom = 0
    for (let i = 0; i < this.samples.length; i++) {
      const s = this.samples[i]!
      if (s.t > t) break
      found = s.seq
      keepFrom = i
    }
    // Callers ask for increasing times: samples older than the last match are never needed again.
    if (keepFrom > 0) this.samples.splice(0, keepFrom)
    return found
  }

  /** Called after every commit (the outbox wakes its deliveries). */
  onCommit(fn: () => void): void {
    this.listeners.push(fn)
  }

  private sample(): void {
    const seq = this.committed
    const last = this.samples[this.samples.length - 1]
    if (last && last.seq === seq) return
    this.samples.push({ t: this.clock(), seq })
    // Bounded whatever the caller does: a sample per commit, a settle watermark asked for every pass.
    if (this.samples.length > 100_000) this.samples.splice(0, this.samples.length - 50_000)
  }
}

/** Batch numbers recorded as pending in the checkpoints under a journal directory (one level of worker directories). */
function pendingBatches(journalDir: string): number[] {
  const dirs = [journalDir]
  try {
    for (const d of readdirSync(journalDir, { withFileTypes: true })) if (d.isDirectory()) dirs.push(join(journalDir, d.name))
  } catch {
    return []
  }
  const out: number[] = []
  for (const dir of dirs) {
    try {
      const cp = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { pending?: { batch?: number } | null }
      if (typeof cp.pending?.batch === 'number') out.push(cp.pending.batch)
    } catch {
      /* no checkpoint there */
    }
  }
  return out
}
