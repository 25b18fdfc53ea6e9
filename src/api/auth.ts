import { createHash, timingSafeEqual } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import { apiKeys } from '../store/schema.js'
import type { AppDeps, AppEnv } from './context.js'
import { ApiError } from './errors.js'

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

const CACHE_MS = 30_000

const known = new Map<string, { id: string; until: number }>()

/**
 * The id of the key (`admin` for the bootstrap admin key from the config, or the id of a key
 * created through the API, stored as a SHA-256 hash), or null when it is not a valid key. Valid
 * keys are remembered briefly so a busy dashboard does not query the metadata store on every request.
 */
export async function verifyApiKey(deps: Pick<AppDeps, 'config' | 'meta'>, key: string): Promise<string | null> {
  const hash = hashKey(key)
  const { config, meta } = deps
  if (config.adminKey) {
    const admin = Buffer.from(hashKey(config.adminKey), 'hex')
    if (timingSafeEqual(admin, Buffer.from(hash, 'hex'))) return 'admin'
  }
  const cached = known.get(hash)
  if (cached && cached.until > Date.now()) return cached.id
  const [row] = await meta.db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hash), eq(apiKeys.revoked, false)))
    .limit(1)
  if (!row) return null
  if (known.size > 10_000) known.clear()
  known.set(hash, { id: row.id, until: Date.now() + CACHE_MS })
  return row.id
}

/** Drops a key from the cache (on revocation), so this process refuses it from the next request. */
export function forgetApiKey(hash: string): void {
  known.delete(hash)
}

/** `Authorization: Bearer <key>`, checked by verifyApiKey. */
export function bearerAuth() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) throw new ApiError('unauthorized', 'missing API key: send "Authorization: Bearer <key>"')
    const id = await verifyApiKey(c.get('deps'), m[1]!)
    if (!id) throw new ApiError('unauthorized', 'invalid API key')
    c.set('apiKeyId', id)
    return next()
  })
}
