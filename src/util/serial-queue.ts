/**
 * Work run one after the other per key (a store) in this process: each call starts once everything
 * queued before it on that key has ended, failed or not, and returns its own result or failure.
 * The catch-ups that recompute derived tables use it so two rounds never interleave their reads and
 * writes, and so a stopping process can wait for the one running.
 */
export function serialQueue<K extends object>() {
  const tails = new WeakMap<K, Promise<unknown>>()
  return {
    run<T>(key: K, fn: () => Promise<T>): Promise<T> {
      const run = (tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn)
      tails.set(key, run)
      return run
    },
    /** Resolves once everything queued on `key` so far has ended. */
    async idle(key: K): Promise<void> {
      await tails.get(key)?.catch(() => undefined)
    },
  }
}
