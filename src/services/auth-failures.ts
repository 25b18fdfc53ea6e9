import type { AppDeps } from '../deps.js'

/** Failed authentications (401, 403) one client address may make per window before it is refused. */
export const AUTH_FAILURES_PER_WINDOW = 20
export const AUTH_WINDOW_MS = 60_000
/** Addresses tracked at most: past it, windows already over are dropped, then the oldest. */
const MAX_ADDRESSES = 100_000

interface Window {
  start: number
  failures: number
}

/**
 * Failed authentications per client address in fixed windows. Past the limit, every request of
 * that address that needs a key is answered 429 with Retry-After until its window ends, a right
 * key included: otherwise a 429 for wrong keys and a 200 for the right one would still let an
 * address guess at full speed. In memory, per process (in cluster mode the primary serves the API
 * and the dashboard). Shared by the API's bearer check and the dashboard's sign-in.
 */
export class AuthLimiter {
  private readonly windows = new Map<string, Window>()

  constructor(private readonly clock: () => number) {}

  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const w = this.windows.get(address)
    if (!w) return 0
    const now = this.clock()
    if (now - w.start >= AUTH_WINDOW_MS) {
      this.windows.delete(address)
      return 0
    }
    return w.failures >= AUTH_FAILURES_PER_WINDOW ? Math.max(1, Math.ceil((w.start + AUTH_WINDOW_MS - now) / 1000)) : 0
  }

  fail(address: string): void {
    const now = this.clock()
    const w = this.windows.get(address)
    if (w && now - w.start < AUTH_WINDOW_MS) {
      w.failures++
      return
    }
    if (this.windows.size >= MAX_ADDRESSES) this.prune(now)
    this.windows.set(address, { start: now, failures: 1 })
  }

  private prune(now: number): void {
    for (const [a, w] of this.windows) if (now - w.start >= AUTH_WINDOW_MS) this.windows.delete(a)
    // Still full: the oldest entries go (a Map iterates in insertion order).
    for (const a of this.windows.keys()) {
      if (this.windows.size < MAX_ADDRESSES) break
      this.windows.delete(a)
    }
  }
}

const limiters = new WeakMap<Pick<AppDeps, 'clock'>, AuthLimiter>()

export function authLimiter(deps: Pick<AppDeps, 'clock'>): AuthLimiter {
  let l = limiters.get(deps)
  if (!l) limiters.set(deps, (l = new AuthLimiter(deps.clock)))
  return l
}
