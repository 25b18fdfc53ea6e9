import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { listSegments, type JournalSource } from '../events/journal.js'

/**
 * A worker's journal directory, read by the primary's writer. The newest segment is always
 * taken as the active one: a worker only starts a new segment after finishing the previous one
 * (or after a restart), so everything older is complete and the newest is never deleted under it.
 */
export class WorkerJournalDir implements JournalSource {
  private listeners: Array<(lines: number) => void> = []
  /** Where the primary sends the pending byte count (the worker's bound on its journal). */
  onPending: ((bytes: number) => void) | null = null

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true })
  }

  get activeSegment(): number {
    return listSegments(this.dir).at(-1) ?? 0
  }

  onLines(listener: (lines: number) => void): void {
    this.listeners.push(listener)
  }

  /** The worker reported `n` new lines. */
  linesAppended(n: number): void {
    for (const l of this.listeners) l(n)
  }

  setPendingBytes(bytes: number): void {
    this.onPending?.(bytes)
  }
}

/** Worker ids that have a journal directory under `journalDir` (left by this run or an earlier one). */
export function existingWorkerIds(journalDir: string): number[] {
  if (!existsSync(journalDir)) return []
  return readdirSync(journalDir)
    .map((f) => /^w(\d+)$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
}
