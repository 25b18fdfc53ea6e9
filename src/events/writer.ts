import { open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventStore } from '../store/clickhouse.js'
import type { Logger } from '../logger.js'
import { insertStatement, scanBatch, type BatchScan } from './insert.js'
import { listSegments, segmentName, type JournalSource } from './journal.js'
import { seqBase, type EventSequence } from './sequence.js'

export interface WriterOptions {
  journal: JournalSource
  store: EventStore
  batchSize: number
  flushIntervalMs: number
  log: Logger
  /** The process's insert order: each batch takes a number (stored as events.seq). Without it, seq stays 0. */
  sequence?: EventSequence
  /** Test hook: runs before every insert and may throw to simulate a store outage. */
  beforeInsert?: () => void
}

/** Where the writer is in the journal, and the batch it was inserting, if any. */
interface Checkpoint {
  segment: number
  offset: number
  /** A batch whose insert may or may not have happened: replayed with the same dedup token. */
  pending: { segment: number; start: number; end: number; batch?: number } | null
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
/** Above any batch: READ_CHUNK_MAX of data, quoted, plus the statement. */
const MAX_QUERY_BYTES = 64 << 20


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
  /** The batch batchEnd just read and scanned, so its insert does not read it again. */
  private scanned: { segment: number; start: number; end: number; buf: Buffer; scan: BatchScan } | null = null
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

  constructor(private readonly opts: WriterOptions) {
    this.cpFile = join(opts.journal.dir, 'checkpoint.json')
  }

  async start(): Promise<void> {
    try {
      this.cp = JSON.parse(await readFile(this.cpFile, 'utf8')) as Checkpoint
    } catch (err) {
      // No checkpoint: a new journal. An unreadable one (it is fsynced before its rename, so this
      // takes a damaged disk): starting over may insert again what was inserted, so say so loudly.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.opts.log.error('writer_checkpoint_unreadable', { file: this.cpFile, message: (err as Error).message, consequence: 'the journal is read from its oldest segment again; events inserted since may be inserted twice' })
      }
      this.cp = { segment: listSegments(this.opts.journal.dir)[0] ?? 0, offset: 0, pending: null }
    }
    // A batch recorded before a crash keeps its number: the outbox's readers wait for it.
    if (this.cp.pending?.batch !== undefined) this.opts.sequence?.reserve(this.cp.pending.batch)
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

  /**
   * Inserts everything journaled before the call (tests and backups use it). Throws if the store
   * refuses. Lines written meanwhile are left to the usual drains: chasing them would never end
   * under steady traffic (a backup taken while readers click waited minutes for a gap). `toEnd`
   * (shutdown, when nothing appends any more) drains until the journal is empty.
   */
  async flush(opts: { toEnd?: boolean } = {}): Promise<void> {
    const segment = this.opts.journal.activeSegment
    const offset = opts.toEnd ? 0 : await stat(join(this.opts.journal.dir, segmentName(segment))).then((s) => s.size, () => 0)
    const reached = () => !opts.toEnd && !this.cp.pending && (this.cp.segment > segment || (this.cp.segment === segment && this.cp.offset >= offset))
    // Drains never overlap: wait for the running one, then hold the slot while flushing.
    while (this.running) await this.running.catch(() => undefined)
    let release!: () => void
    this.running = new Promise<void>((r) => (release = r))
    try {
      this.retryAt = 0
      while (!reached() && (await this.drainOnce()) !== 'none') {
        /* until the journal is consumed up to where it was */
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
      // At shutdown the edge no longer appends: everything in the journal, lines written while
      // this stop began included.
      await this.flush({ toEnd: true })
    } catch (err) {
      this.opts.log.warn('writer_stop_unflushed', { message: (err as Error).message })
    }
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) break
        const r = await this.drainOnce()
        // Caught up: what arrived during the insert waits for a batch's worth of lines or the
        // interval. Inserting it at once would make one small part per insert's duration under
        // load, and ClickHouse's merges of those cost more CPU than the edge itself.
        if (r === 'none' || (r === 'caught-up' && this.linesSinceDrain < this.opts.batchSize)) break
      }
      this.backoffMs = 0
    } catch (err) {
      this.stats.failures++
      // Bounded: a failed insert's message can quote its whole batch.
      this.stats.lastError = (err as Error).message.slice(0, 2000)
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : 250)
      this.retryAt = Date.now() + this.backoffMs
      this.opts.log.warn('insert_failed', { message: this.stats.lastError, retryInMs: this.backoffMs })
      setTimeout(() => this.kick(), this.backoffMs).unref()
    }
  }

  /**
   * One batch: 'more' when the journal held more than it took, 'caught-up' when it took the
   * active segment's last line, 'none' when there was nothing to insert.
   */
  private async drainOnce(): Promise<'more' | 'caught-up' | 'none'> {
    this.linesSinceDrain = 0
    if (this.cp.pending) {
      const p = this.cp.pending
      await this.insertRange(p.segment, p.start, p.end, true, p.batch)
      return 'more'
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
        const end = await this.batchEnd(seg, file, this.cp.offset, size)
        if (end > this.cp.offset) {
          await this.insertRange(seg, this.cp.offset, end, false)
          return seg === active && end === size ? 'caught-up' : 'more'
        }
      }
      if (seg === active) return 'none'
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
    return 'none'
  }

  /** End offset of the next batch: up to `batchSize` whole lines from `start` (fewer when their UAs are many). */
  private async batchEnd(segment: number, file: string, start: number, size: number): Promise<number> {
    // Sized for the batch (lines are ~250 bytes), grown when the lines are longer.
    let len = Math.min(size - start, READ_CHUNK_MAX, Math.max(64 << 10, this.opts.batchSize * 512))
    for (;;) {
      const buf = await readRange(file, start, len)
      const scan = scanBatch(buf, this.opts.batchSize)
      if (scan.lines < this.opts.batchSize && buf.indexOf(10, scan.end) < 0 && len < size - start && len < READ_CHUNK_MAX) {
        len = Math.min(size - start, READ_CHUNK_MAX, len * 2)
        continue
      }
      if (scan.end > 0) this.scanned = { segment, start, end: start + scan.end, buf: buf.subarray(0, scan.end), scan }
      return start + scan.end
    }
  }

  private async insertRange(segment: number, start: number, end: number, replay: boolean, recordedBatch?: number): Promise<void> {
    const file = join(this.opts.journal.dir, segmentName(segment))
    const sequence = this.opts.sequence
    let batch = recordedBatch
    if (!replay || (sequence && batch === undefined)) {
      // Numbered and recorded before the insert: a replay of this range stores the same seq values.
      batch = sequence?.reserve(recordedBatch)
      this.cp.pending = { segment, start, end, ...(batch !== undefined ? { batch } : {}) }
      await this.saveCheckpoint()
    } else if (batch !== undefined) {
      sequence?.reserve(batch)
    }
    const cached = this.scanned
    this.scanned = null
    let buf: Buffer
    let scan: BatchScan
    if (!replay && cached && cached.segment === segment && cached.start === start && cached.end === end) {
      ;({ buf, scan } = cached)
    } else {
      try {
        buf = await readRange(file, start, end - start)
      } catch {
        // The segment is gone (deleted after a completed batch): nothing left to replay.
        buf = Buffer.alloc(0)
      }
      // The whole recorded range, whatever batch size or UA bound made it: a replay inserts the same rows.
      scan = scanBatch(buf, Infinity, Infinity)
    }
    this.stats.skippedLines += scan.skipped.length
    const stmt = insertStatement(this.opts.store.db, buf.subarray(0, scan.end), scan, batch === undefined ? undefined : seqBase(batch))
    if (stmt) {
      // A replay is the batch of a failed (or interrupted) attempt, inserted again under the same token.
      if (replay) this.stats.retries++
      this.opts.beforeInsert?.()
      const t0 = performance.now()
      await this.opts.store.client.command({
        query: stmt.query,
        query_params: stmt.params,
        // Fresh token per batch and explicit values: chDB keeps settings on the connection.
        clickhouse_settings: {
          insert_deduplication_token: `journal:${this.opts.journal.dir}:${segment}:${start}-${end}`,
          async_insert: 0,
          // The batch is a literal inside the statement.
          max_query_size: String(MAX_QUERY_BYTES),
        },
      })
      this.stats.lastInsertMs = performance.now() - t0
      this.stats.insertMsSum += this.stats.lastInsertMs
      this.stats.inserted += stmt.rows
      this.stats.batches++
      this.stats.lastBatchSize = stmt.rows
    }
    this.cp = { segment, offset: end, pending: null }
    await this.saveCheckpoint()
    if (batch !== undefined) sequence?.commit(batch)
    await this.updatePending()
  }

  private async saveCheckpoint(): Promise<void> {
    // Written, fsynced, then renamed over the old one: after a power loss the checkpoint is the old or the new, whole.
    const tmp = this.cpFile + '.tmp'
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(JSON.stringify(this.cp))
      await fh.sync()
    } finally {
      await fh.close()
    }
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
