import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { AppEnv } from '../api/context.js'
import type { AppDeps } from '../deps.js'
import { activeKeyHash, API_KEY_CACHE_MS, hashKey, revokedHereAlready } from '../services/auth-keys.js'
import { isSignedOut, recordSignout } from '../services/dashboard-signouts.js'

export const SESSION_COOKIE = 'sillage_session'
export const SESSION_TTL_MS = 12 * 3_600_000

/**
 * Stateless sessions, so they hold across cluster workers: `payload.mac`, the payload naming the
 * key id, a fingerprint of the key (so a rotated admin key or a revoked key ends its sessions), an
 * expiry and a nonce; the MAC is HMAC-SHA256 under a key derived from the tracker secret for this
 * use only. The raw API key never leaves the sign-in request.
 */
export interface Session {
  keyId: string
  fingerprint: string
  expires: number
  nonce: string
}

export class Sessions {
  private readonly key: Buffer
  private readonly active = new Map<string, { ok: boolean; until: number }>()
  /** Nonces of sessions signed out through this process: refused at once, without asking the database. */
  private readonly endedHere = new Map<string, number>()

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('sillage dashboard session v1').digest()
  }

  private mac(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url')
  }

  issue(keyId: string, fingerprint: string, now: number): string {
    const s: Session = { keyId, fingerprint, expires: now + SESSION_TTL_MS, nonce: randomBytes(16).toString('base64url') }
    const payload = Buffer.from(JSON.stringify(s)).toString('base64url')
    return `${payload}.${this.mac(payload)}`
  }

  /** The session a cookie value stands for, or null when forged, malformed or expired. */
  read(value: string | undefined, now: number): Session | null {
    if (!value || value.length > 1000) return null
    const dot = value.indexOf('.')
    if (dot < 0) return null
    const payload = value.slice(0, dot)
    const given = Buffer.from(value.slice(dot + 1))
    const expected = Buffer.from(this.mac(payload))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    try {
      const s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session
      if (typeof s.keyId !== 'string' || typeof s.fingerprint !== 'string' || typeof s.nonce !== 'string' || !(s.expires > now)) return null
      return s
    } catch {
      return null
    }
  }

  /** The form token of a session: bound to its nonce, so a token from another session is refused. */
  csrfToken(s: Session): string {
    return this.mac(`csrf:${s.nonce}`)
  }

  checkCsrf(s: Session, token: unknown): boolean {
    if (typeof token !== 'string') return false
    const a = Buffer.from(token)
    const b = Buffer.from(this.csrfToken(s))
    return a.length === b.length && timingSafeEqual(a, b)
  }

  /**
   * Signs a session out for good: its cookie is refused from now on, even if kept or copied, until
   * it would have expired. Recorded in the metadata store, so every instance and a restart agree.
   */
  async end(deps: Pick<AppDeps, 'meta'>, s: Session, now: number): Promise<void> {
    this.endedHere.set(s.nonce, s.expires)
    if (this.endedHere.size > 10_000) for (const [n, exp] of this.endedHere) if (exp <= now) this.endedHere.delete(n)
    await recordSignout(deps, s.nonce, s.expires, now)
  }

  /**
   * Whether the session's key still exists, unrevoked, with the same hash, and the session was not
   * signed out (checked at most every API_KEY_CACHE_MS per session, as API keys are; at once for a
   * sign-out or a revocation made through this process).
   */
  async keyStillValid(deps: Pick<AppDeps, 'config' | 'meta' | 'clock'>, s: Session): Promise<boolean> {
    if (this.endedHere.has(s.nonce) || revokedHereAlready(s.keyId)) return false
    const k = `${s.keyId}:${s.fingerprint}:${s.nonce}`
    const hit = this.active.get(k)
    if (hit && hit.until > deps.clock()) return hit.ok
    const ok = !(await isSignedOut(deps, s.nonce)) && (await this.keyValid(deps, s))
    if (this.active.size > 10_000) this.active.clear()
    this.active.set(k, { ok, until: deps.clock() + API_KEY_CACHE_MS })
    return ok
  }

  private async keyValid(deps: Pick<AppDeps, 'config' | 'meta' | 'clock'>, s: Session): Promise<boolean> {
    if (s.keyId === 'admin') return !!deps.config.adminKey && fingerprintOf(hashKey(deps.config.adminKey)) === s.fingerprint
    const hash = await activeKeyHash(deps, s.keyId)
    return hash !== null && fingerprintOf(hash) === s.fingerprint
  }
}

/** A short, one-way digest of the key's stored hash: enough to notice a different key, useless to sign in. */
export function fingerprintOf(keyHash: string): string {
  return createHash('sha256').update(`fp:${keyHash}`).digest('base64url').slice(0, 16)
}

/** https when the request came over it (directly or through a proxy) or the public URL is https. */
export function isHttps(c: Context<AppEnv>): boolean {
  return (
    new URL(c.req.url).protocol === 'https:' ||
    c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https' ||
    c.get('deps').config.publicBaseUrl.startsWith('https:')
  )
}

export function setSessionCookie(c: Context<AppEnv>, value: string): void {
  setCookie(c, SESSION_COOKIE, value, {
    path: '/dashboard',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  })
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/dashboard', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) })
}

export function sessionCookie(c: Context<AppEnv>): string | undefined {
  return getCookie(c, SESSION_COOKIE)
}

/**
 * A POST from another site is refused even before the CSRF token is looked at: browsers send
 * Origin on every cross-origin POST, and it must name this host (or the configured public URL).
 */
export function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin')
  if (origin === undefined) return true
  if (origin === 'null') return false
  let o: URL
  try {
    o = new URL(origin)
  } catch {
    return false
  }
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim() || c.req.header('host')
  if (host && o.host === host) return true
  try {
    return new URL(c.get('deps').config.publicBaseUrl).origin === o.origin
  } catch {
    return false
  }
}
