import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { clientIp } from '../tracking/ip.js'
import { authLimiter } from '../services/auth-failures.js'
import type { AppEnv } from './context.js'
import { errorBody } from './errors.js'

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
