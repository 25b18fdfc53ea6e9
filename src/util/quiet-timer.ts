/**
 * Runs `run(arg)` once things have been quiet for `quietMs` after the last `schedule`, and at most
 * `maxWaitMs` after the first one not yet run: work queued by calls back to back is done once, after
 * their answers. One timer per key (a store: the process's connection to it). The timer never keeps
 * the process alive; an error is dropped here, the queued work staying for the next run, which
 * reports it to its own caller.
 */
export function quietTimer<K extends object, A>(run: (arg: A) => Promise<unknown>, quietMs: number, maxWaitMs: number): (key: K, arg: A) => void {
  const timers = new WeakMap<K, { timer: NodeJS.Timeout; first: number }>()
  return (key, arg) => {
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
}
