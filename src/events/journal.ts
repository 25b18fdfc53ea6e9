import { close as closeAsync, closeSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../logger.js'

export interface JournalOptions {
  dir: string
  /** fsync period in ms; 0 fsyncs on every write. What a power loss may cost; a process crash costs nothing. */
  fsyncIntervalMs: number
  /** A new segment starts past this size, so consumed segments can be deleted. */
  segmentBytes?: number
  /**
   * A non-empty segment older than this is closed and a new one started (default one hour), so
   * the writer deletes the finished one once it is in ClickHouse: at a low rate a segment would
   * otherwise take months to reach `segmentBytes`, keeping events on disk past their retention.
   */
  segmentMaxAgeMs?: number
  /** Unconsumed bytes above which new events are refused (counted as lost) instead of filling the disk. */
  maxBytes: number
  log: Logger
  /** The write(2) used for appends; tests pass one that fails (a full disk) to check what the edge does then. */
  write?: (fd: number, buf: Buffer, offset: number, length: number) => number
}

export interface JournalStats {
  appended: number
  lost: number
  writeErrors: number
  lastError: string | null
  bytesPending: number
}

/** What the writer needs of a journal directory: this process's Journal, or a worker's directory read by the primary. */
export interface JournalSource {
  readonly dir: string
  /** The segment still being appended to: never deleted, and its tail may be a line in progress. */
  readonly activeSegment: number
  onLines(listener: (lines: number) => void): void
  setPendingBytes(bytes: number): void
}

/** A worker's journal state, as reported to the primary (cluster mode). */
export interface PeerJournalState {
  stats: JournalStats
  lastLossAt: number
}

const SEGMENT_RE = /^(\d{16})\.log$/

/**
 * Segment numbers only grow, even across restarts and deleted segments (they start at the
 * clock in ms), because the writer's dedup tokens name segments: a reused number within
 * ClickHouse's dedup window would make a new batch look like a replay and be dropped.
 */
export function segmentName(seq: number): string {
  return String(seq).padStart(16, '0') + '.log'
}

export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => SEGMENT_RE.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
}

/**
 * Append-only event journal. Lines appended during one event-loop turn are written with a
 * single write(2) at the end of the turn, and only then are their callbacks (the HTTP
 * responses) run: an acknowledged event is in the kernel's page cache, so it survives a
 * crash of the process; fsync every `fsyncIntervalMs` bounds what a power loss can take.
 */
export class Journal implements JournalSource {
  readonly dir: string
  private fd = -1
  private seq = 0
  private size = 0
  private lines: string[] = []
  private callbacks: Array<() => void> = []
  private scheduled = false
  private dirty = false
  /** An fsync is running on the libuv threadpool; fds closed meanwhile are closed after it. */
  private syncing = false
  private closed = false
  private closeAfterSync: number[] = []
  private fsyncTimer: NodeJS.Timeout | undefined
  private ageTimer: NodeJS.Timeout | undefined
  private openedAt = 0
  private readonly segmentBytes: number
  private readonly write: (fd: number, buf: Buffer, offset: number, length: number) => number
  /** Bytes written but not yet consumed by the writer (kept current by the writer). */
  private consumedBytesBehind = 0
  private listeners: Array<(lines: number) => void> = []
  private readonly own: JournalStats = { appended: 0, lost: 0, writeErrors: 0, lastError: null, bytesPending: 0 }
  private readonly peers = new Map<string, PeerJournalState>()

  constructor(private readonly opts: JournalOptions) {
    this.dir = opts.dir
    this.segmentBytes = opts.segmentBytes ?? 64 << 20
    this.write = opts.write ?? ((fd, buf, off, len) => writeSync(fd, buf, off, len))
    mkdirSync(this.dir, { recursive: true })
    const existing = listSegments(this.dir)
    // Never append after a possibly torn tail: every start opens a fresh segment.
    this.openSegment(Math.max((existing.at(-1) ?? 0) + 1, Date.now()))
    this.consumedBytesBehind = existing.reduce((n, s) => n + statSync(join(this.dir, segmentName(s))).size, 0)
    if (opts.fsyncIntervalMs > 0) {
      this.fsyncTimer = setInterval(() => this.syncInBackground(), opts.fsyncIntervalMs)
      this.fsyncTimer.unref()
    }
    const maxAge = opts.segmentMaxAgeMs ?? 3_600_000
    this.ageTimer = setInterval(() => this.rotateIfOld(maxAge), Math.min(maxAge, 60_000))
    this.ageTimer.unref()
  }

  private rotateIfOld(maxAge: number): void {
    if (this.closed || this.fd < 0 || this.size === 0 || Date.now() - this.openedAt < maxAge) return
    try {
      this.rotate()
    } catch {
      /* fd < 0: the next write opens a segment and reports a failure */
    }
  }

  /** This journal's counters, plus those of the workers' journals when this is a cluster's primary. */
  get stats(): JournalStats {
    if (this.peers.size === 0) return this.own
    const t: JournalStats = { ...this.own }
    // lastError is the most recent loss's, whichever process had it.
    let latest = this.lastLossAt
    for (const p of this.peers.values()) {
      t.appended += p.stats.appended
      t.lost += p.stats.lost
      t.writeErrors += p.stats.writeErrors
      t.bytesPending += p.stats.bytesPending
      if (p.lastLossAt > latest) {
        latest = p.lastLossAt
        t.lastError = p.stats.lastError
      }
    }
    return t
  }

  /** This process's own state, for reporting to a cluster's primary. */
  get ownState(): PeerJournalState {
    return { stats: { ...this.own }, lastLossAt: this.lastLossAt }
  }

  /** Cluster mode: the primary keeps every worker's last reported state, so /readyz and /metrics see them. */
  reportPeer(id: string, state: PeerJournalState): void {
    this.peers.set(id, state)
  }

  get activeSegment(): number {
    return this.seq
  }

  /** Queues a line (newline included); `done` runs once it is written, or once writing failed. */
  append(line: string, done: () => void): void {
    if (this.closed) {
      // A request still in flight at shutdown: answered, and the event counted as lost, never left hanging.
      this.lose(1, 'journal closed (shutting down)')
      done()
      return
    }
    this.lines.push(line)
    this.callbacks.push(done)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushTurn)
    }
  }

  appendAsync(line: string): Promise<void> {
    return new Promise((resolve) => this.append(line, resolve))
  }

  /** Called by the writer: how many bytes of the journal are not yet in ClickHouse. */
  setPendingBytes(bytes: number): void {
    this.consumedBytesBehind = bytes
    this.own.bytesPending = bytes
  }

  onLines(listener: (lines: number) => void): void {
    this.listeners.push(listener)
  }

  private readonly flushTurn = (): void => {
    this.scheduled = false
    if (this.closed) return
    const lines = this.lines
    const callbacks = this.callbacks
    this.lines = []
    this.callbacks = []
    if (lines.length === 0) return
    const buf = Buffer.from(lines.length === 1 ? lines[0]! : lines.join(''), 'utf8')
    if (this.consumedBytesBehind + buf.length > this.opts.maxBytes) {
      this.lose(lines.length, `journal holds ${this.consumedBytesBehind} bytes not yet in ClickHouse (limit ${this.opts.maxBytes})`)
    } else {
      try {
        // fd < 0: a rotation after a failed write could not open the next segment; try again now.
        if (this.fd < 0) this.openSegment(Math.max(this.seq + 1, Date.now()))
        else if (this.size > 0 && this.size + buf.length > this.segmentBytes) this.rotate()
        let off = 0
        while (off < buf.length) off += this.write(this.fd, buf, off, buf.length - off)
        this.size += buf.length
        this.consumedBytesBehind += buf.length
        this.own.bytesPending = this.consumedBytesBehind
        this.own.appended += lines.length
        this.dirty = true
        if (this.opts.fsyncIntervalMs === 0) this.sync()
        for (const l of this.listeners) l(lines.length)
      } catch (err) {
        this.own.writeErrors++
        this.lose(lines.length, `journal write failed: ${(err as Error).message}`)
        // A failed write may have left a partial line: continue in a fresh segment.
        try {
          this.rotate()
        } catch {
          /* the next write reports it */
        }
      }
    }
    for (const cb of callbacks) cb()
  }

  private lastLossAt = 0

  private lose(count: number, message: string): void {
    this.lastLossAt = Date.now()
    this.own.lost += count
    if (this.own.lastError !== message) this.opts.log.error('journal_loss', { message, lost: count })
    this.own.lastError = message
  }

  /** True when events were lost (write failure or full journal) in the last minute. */
  get degraded(): boolean {
    const now = Date.now()
    if (this.lastLossAt > 0 && now - this.lastLossAt < 60_000) return true
    for (const p of this.peers.values()) if (p.lastLossAt > 0 && now - p.lastLossAt < 60_000) return true
    return false
  }

  private openSegment(seq: number): void {
    this.seq = seq
    this.fd = openSync(join(this.dir, segmentName(seq)), 'a')
    this.size = 0
    this.openedAt = Date.now()
  }

  private rotate(): void {
    this.sync()
    this.closeFd()
    this.openSegment(Math.max(this.seq + 1, Date.now()))
  }

  private closeFd(): void {
    // An fd must stay open under a running fsync: closed now, its number could be reused by the next open.
    if (this.fd >= 0) {
      if (this.syncing) this.closeAfterSync.push(this.fd)
      else closeSync(this.fd)
    }
    this.fd = -1
  }

  /**
   * The periodic fsync, on the libuv threadpool: the event loop never waits for the disk, and
   * a power loss still costs at most about `fsyncIntervalMs` of events (plus one fsync's duration).
   */
  private syncInBackground(): void {
    if (!this.dirty || this.fd < 0 || this.syncing) return
    // Cleared before: lines written while this fsync runs set it again for the next tick.
    this.dirty = false
    this.syncing = true
    fsync(this.fd, (err) => {
      this.syncing = false
      if (err) {
        this.dirty = true
        this.opts.log.error('journal_fsync_failed', { message: err.message })
      }
      for (const fd of this.closeAfterSync.splice(0)) closeAsync(fd, () => undefined)
    })
  }

  sync(): void {
    if (!this.dirty || this.fd < 0) return
    try {
      fsyncSync(this.fd)
      this.dirty = false
    } catch (err) {
      this.opts.log.error('journal_fsync_failed', { message: (err as Error).message })
    }
  }

  /** Writes what is queued, fsyncs and closes. */
  close(): void {
    if (this.scheduled) this.flushTurn()
    this.closed = true
    if (this.fsyncTimer) clearInterval(this.fsyncTimer)
    if (this.ageTimer) clearInterval(this.ageTimer)
    this.sync()
    this.closeFd()
  }
}
