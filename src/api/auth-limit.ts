import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { clientIp } from '../tracking/ip.js'
import type { AppDeps, AppEnv } from './context.js'
import { errorBody } from './errors.js'

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
 * address guess at full speed. In memory, per process (in cluster mode the primary serves the API).
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

const limiters = new WeakMap<AppDeps, AuthLimiter>()

export function authLimiter(deps: AppDeps): AuthLimiter {
  let l = limiters.get(deps)
  if (!l) limiters.set(deps, (l = new AuthLimiter(deps.clock)))
  return l
}

/** The client's address as the edge sees it (X-Forwarded-For only when the proxy is trusted). */
export function requestAddress(c: Context<AppEnv>): string {
  const req = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return req ? clientIp(req, c.get('deps').config.trustProxy) : ''
}

/** The 429 of a limited address. */
export function tooManyFailures(c: Context, retryAfter: number): Response {
  return c.json(errorBody(c, 'too_many_requests', `too many failed authentications from this address; retry in ${retryAfter} s`, { retryAfter }), 429, { 'Retry-After': String(retryAfter) })
}

/** Before bearerAuth: refuses a limited address (429, Retry-After), and counts the 401s and 403s that follow. */
export function authRateLimit() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const limiter = authLimiter(c.get('deps'))
    const address = requestAddress(c)
    const wait = limiter.retryAfter(address)
    if (wait > 0) return tooManyFailures(c, wait)
    // A thrown 401 or 403 has become the response by now (Hono's compose hands it to onError).
    await next()
    if (c.res.status === 401 || c.res.status === 403) limiter.fail(address)
  })
}
