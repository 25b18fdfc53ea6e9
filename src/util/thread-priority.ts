import { readdirSync } from 'node:fs'
import { setPriority } from 'node:os'

/**
 * Lowers the CPU priority (nice) of every thread of this process except the main one, which
 * runs the event loop and so answers readers' clicks. The others are the embedded ClickHouse's
 * (insert pipelines, merges), libuv's pool where chDB runs its queries, and V8's helpers: under a
 * burst that saturates the machine they yield to the edge, the journal holds what they have not
 * inserted yet, and they catch up once the burst is over.
 *
 * Threads are told apart by id, never by name: Node's names change between versions (Node 20
 * names every thread "node"; 24 names libuv's pool "libuv-worker" and the main thread
 * "MainThread", 26 "node-MainThread"), the main thread's id is the process id on all of them.
 *
 * Linux only (a thread id is a valid target of setpriority(2) there); raising nice needs no
 * privilege. Threads inherit their creator's nice, but some are created by the main thread
 * later (pools grow on demand), hence a pass every second over the ones not seen yet.
 * Returns a function that stops the passes; the threads keep their nice.
 */
export function deprioritiseBackgroundThreads(nice: number, onError?: (err: Error) => void): () => void {
  if (process.platform !== 'linux' || nice <= 0) return () => undefined
  const main = String(process.pid)
  let seen = new Set<string>()
  let reported = false
  const pass = () => {
    let tids: string[]
    try {
      tids = readdirSync('/proc/self/task')
    } catch {
      return
    }
    const now = new Set<string>()
    for (const tid of tids) {
      if (tid === main) continue
      now.add(tid)
      if (seen.has(tid)) continue
      try {
        setPriority(Number(tid), nice)
      } catch (err) {
        // The thread ended meanwhile (ESRCH) is normal; anything else is said once.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH' && !reported) {
          reported = true
          onError?.(err as Error)
        }
      }
    }
    // Only live threads are remembered, so a recycled thread id is looked at again.
    seen = now
  }
  pass()
  const timer = setInterval(pass, 1000)
  timer.unref()
  return () => clearInterval(timer)
}
