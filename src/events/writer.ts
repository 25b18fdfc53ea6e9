import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventStore } from '../store/clickhouse.js'
import type { Logger } from '../logger.js'
import { decodeEvent, type TrackedEvent } from './event.js'
import { toEventRow } from './row.js'
import { listSegments, segmentName, type JournalSource } from './journal.js'

export interface WriterOptions {
  journal: JournalSource
  store: EventStore
  batchSize: number
  flushIntervalMs: number
  log: Logger
  /** Turns a journaled event into the row inserted into `events` (the classification issue adds UA parsing here). */
  toRow?: (e: TrackedEvent) => Record<string, unknown>
  /** Test hook: runs before every insert and may throw to simulate a store outage. */
  beforeInsert?: () => void
}

/** Where the writer is in the journal, and the batch it was inserting, if any. */
interface Checkpoint {
  segment: number
  offset: number
  /** A batch whose insert may or may not have happened: replayed with the same dedup token. */
  pending: { segment: number; start: number; end: number } | null
}

export interface WriterStats {
  inserted: number
  batches: number
  retries: number
  failures: number
  skippedLines: number
  lastInsertMs: number
  lastError: string | null
  lastBatchSize: number
  /** Sum of insert durations, in ms: with `batches`, the mean insert latency. */
  insertMsSum: number
}

const MAX_BACKOFF_MS = 30_000
const READ_CHUNK_MAX = 16 << 20

export { chDateTime } from './row.js'

/**
 * Moves events from the journal into ClickHouse: batches of up to `batchSize` lines, on size
 * or interval. Every batch is insert-deduplicated by a token naming its journal range, and
 * the range is recorded before the insert, so a crash or a retry never counts an event twice.
 * A failed insert is retried with back-off; the events wait in the journal, on disk.
 */
export class EventWriter {
  private cp: Checkpoint = { segment: 0, offset: 0, pending: null }
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | null = null
  private stopped = false
  private backoffMs = 0
  private retryAt = 0
  private linesSinceDrain = 0
  private pendingBytes = 0
  readonly stats: WriterStats = {
    inserted: 0,
    batches: 0,
    retries: 0,
    failures: 0,
    skippedLines: 0,
    lastInsertMs: 0,
    lastError: null,
    lastBatchSize: 0,
    insertMsSum: 0,
  }
  private readonly cpFile: string
  private readonly toRow: (e: TrackedEvent) => Record<string, unknown>

  constructor(private readonly opts: WriterOptions) {
    this.cpFile = join(opts.journal.dir, 'checkpoint.json')
    this.toRow = opts.toRow ?? toEventRow
  }

  async start(): Promise<void> {
    try {
      this.cp = JSON.parse(await readFile(this.cpFile, 'utf8')) as Checkpoint
    } catch {
      this.cp = { segment: listSegments(this.opts.journal.dir)[0] ?? 0, offset: 0, pending: null }
    }
    await this.updatePending()
    this.opts.journal.onLines((n) => {
      this.linesSinceDrain += n
      if (this.linesSinceDrain >= this.opts.batchSize) this.kick()
    })
    this.timer = setInterval(() => this.kick(), this.opts.flushIntervalMs)
    this.timer.unref()
    this.kick()
  }

  /** Starts a drain unless one is running or a retry is waiting for its back-off. */
  kick(): void {
    if (this.running || this.stopped || Date.now() < this.retryAt) return
    this.running = this.drain().finally(() => {
      this.running = null
    })
  }

  /** Inserts everything journaled so far (tests and shutdown use it). Throws if the store refuses. */
  async flush(): Promise<void> {
    // Drains never overlap: wait for the running one, then hold the slot while flushing.
    while (this.running) await this.running.catch(() => undefined)
    let release!: () => void
    this.running = new Promise<void>((r) => (release = r))
    try {
      this.retryAt = 0
      while (await this.drainOnce()) {
        /* until the journal is consumed */
      }
    } finally {
      this.running = null
      release()
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    try {
      await this.flush()
    } catch (err) {
      this.opts.log.warn('writer_stop_unflushed', { message: (err as Error).message })
    }
  }

  /** Journal bytes not yet in ClickHouse, as of the last batch. */
  get lagBytes(): number {
    return this.pendingBytes
  }

  get dir(): string {
    return this.opts.journal.dir
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.drainOnce())) {
        /* keep going while there is a full batch or more */
      }
      this.backoffMs = 0
    } catch (err) {
      this.stats.failures++
      this.stats.lastError = (err as Error).message
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : 250)
      this.retryAt = Date.now() + this.backoffMs
      this.opts.log.warn('insert_failed', { message: this.stats.lastError, retryInMs: this.backoffMs })
      setTimeout(() => this.kick(), this.backoffMs).unref()
    }
  }

  /** One batch; true when it did something (so there may be more). */
  private async drainOnce(): Promise<boolean> {
    this.linesSinceDrain = 0
    if (this.cp.pending) {
      const p = this.cp.pending
      await this.insertRange(p.segment, p.start, p.end, true)
      return true
    }
    const active = this.opts.journal.activeSegment
    const segments = listSegments(this.opts.journal.dir).filter((s) => s >= this.cp.segment)
    for (const seg of segments) {
      if (seg !== this.cp.segment) {
        this.cp = { segment: seg, offset: 0, pending: null }
      }
      const file = join(this.opts.journal.dir, segmentName(seg))
      const size = (await stat(file)).size
      if (this.cp.offset < size) {
        const end = await this.batchEnd(file, this.cp.offset, size)
        if (end > this.cp.offset) {
          await this.insertRange(seg, this.cp.offset, end, false)
          return true
        }
      }
      if (seg === active) return false
      // An older segment is finished: drop a torn tail (a crash mid-write) and delete it.
      if (this.cp.offset < size) {
        this.opts.log.warn('journal_torn_tail', { segment: seg, bytes: size - this.cp.offset })
        this.stats.skippedLines++
      }
      const next = segments.find((s) => s > seg) ?? active
      this.cp = { segment: next, offset: 0, pending: null }
      await this.saveCheckpoint()
      await unlink(file).catch(() => undefined)
      await this.updatePending()
    }
    return false
  }

  /** End offset of the next batch: up to `batchSize` whole lines from `start`. */
  private async batchEnd(file: string, start: number, size: number): Promise<number> {
    const len = Math.min(size - start, READ_CHUNK_MAX)
    const buf = await readRange(file, start, len)
    let pos = 0
    let lines = 0
    let lastEnd = 0
    while (lines < this.opts.batchSize) {
      const nl = buf.indexOf(10, pos)
      if (nl < 0) break
      pos = nl + 1
      lastEnd = pos
      lines++
    }
    return start + lastEnd
  }

  private async insertRange(segment: number, start: number, end: number, replay: boolean): Promise<void> {
    const file = join(this.opts.journal.dir, segmentName(segment))
    if (!replay) {
      this.cp.pending = { segment, start, end }
      await this.saveCheckpoint()
    }
    let buf: Buffer
    try {
      buf = await readRange(file, start, end - start)
    } catch {
      // The segment is gone (deleted after a completed batch): nothing left to replay.
      buf = Buffer.alloc(0)
    }
    const rows: Record<string, unknown>[] = []
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue
      const e = decodeEvent(line)
      if (e) rows.push(this.toRow(e))
      else this.stats.skippedLines++
    }
    if (rows.length > 0) {
      if (!replay && this.stats.failures > 0) this.stats.retries++
      this.opts.beforeInsert?.()
      const t0 = performance.now()
      await this.opts.store.client.insert({
        table: `${this.opts.store.db}.events`,
        values: rows,
        format: 'JSONEachRow',
        // A fresh token per batch: chDB keeps settings on the connection, so never leave one behind.
        clickhouse_settings: { insert_deduplication_token: `journal:${this.opts.journal.dir}:${segment}:${start}-${end}`, async_insert: 0 },
      })
      this.stats.lastInsertMs = performance.now() - t0
      this.stats.insertMsSum += this.stats.lastInsertMs
      this.stats.inserted += rows.length
      this.stats.batches++
      this.stats.lastBatchSize = rows.length
    }
    this.cp = { segment, offset: end, pending: null }
    await this.saveCheckpoint()
    await this.updatePending()
  }

  private async saveCheckpoint(): Promise<void> {
    const tmp = this.cpFile + '.tmp'
    await writeFile(tmp, JSON.stringify(this.cp))
    await rename(tmp, this.cpFile)
  }

  /** Tells the journal how many bytes are still to insert (its bound on disk use). */
  private async updatePending(): Promise<void> {
    let bytes = 0
    for (const seg of listSegments(this.opts.journal.dir)) {
      if (seg < this.cp.segment) continue
      const size = await stat(join(this.opts.journal.dir, segmentName(seg))).then((s) => s.size, () => 0)
      bytes += seg === this.cp.segment ? Math.max(0, size - this.cp.offset) : size
    }
    this.pendingBytes = bytes
    this.opts.journal.setPendingBytes(bytes)
  }
}

async function readRange(file: string, start: number, len: number): Promise<Buffer> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(len)
    let got = 0
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, start + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    return buf.subarray(0, got)
  } finally {
    await fh.close()
  }
}
