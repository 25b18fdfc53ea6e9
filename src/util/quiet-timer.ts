/**
 * Runs `run(arg)` once things have been quiet for `quietMs` after the last `schedule`, and at most
 * `maxWaitMs` after the first one not yet run: work queued by calls back to back is done once, after
 * their answers. One timer per key (a store: the process's connection to it). The timer never keeps
 * the process alive; an error is dropped here, the queued work staying for the next run, which
 * reports it to its own caller. `cancel(key)`: drops the key's timer (a process stopping: the queued
 * work stays queued for the next run, in this process or the next).
 */
export function quietTimer<K extends object, A>(run: (arg: A) => Promise<unknown>, quietMs: number, maxWaitMs: number): ((key: K, arg: A) => void) & { cancel(key: K): void } {
  const timers = new WeakMap<K, { timer: NodeJS.Timeout; first: number }>()
  const schedule = (key: K, arg: A) => {
    const now = Date.now()
    const pending = timers.get(key)
    if (pending) clearTimeout(pending.timer)
    const first = pending?.first ?? now
    const timer = setTimeout(
      () => {
        timers.delete(key)
        void run(arg).catch(() => undefined)
      },
      Math.max(0, Math.min(quietMs, first + maxWaitMs - now)),
    )
    timer.unref()
    timers.set(key, { timer, first })
  }
  return Object.assign(schedule, {
    cancel(key: K) {
      clearTimeout(timers.get(key)?.timer)
      timers.delete(key)
    },
  })
}
