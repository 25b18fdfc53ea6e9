import { createHash, timingSafeEqual } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import { apiKeys } from '../store/schema.js'
import type { AppEnv } from './context.js'
import { ApiError } from './errors.js'

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

const CACHE_MS = 30_000

/**
 * `Authorization: Bearer <key>`: the bootstrap admin key from the config, or a key created
 * through the API (stored as a SHA-256 hash). Valid keys are remembered briefly so a busy
 * dashboard does not query the metadata store on every request.
 */
export function bearerAuth() {
  const known = new Map<string, { id: string; until: number }>()
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) throw new ApiError('unauthorized', 'missing API key: send "Authorization: Bearer <key>"')
    const key = m[1]!
    const hash = hashKey(key)
    const { config, meta } = c.get('deps')
    if (config.adminKey) {
      const admin = Buffer.from(hashKey(config.adminKey), 'hex')
      if (timingSafeEqual(admin, Buffer.from(hash, 'hex'))) {
        c.set('apiKeyId', 'admin')
        return next()
      }
    }
    const cached = known.get(hash)
    if (cached && cached.until > Date.now()) {
      c.set('apiKeyId', cached.id)
      return next()
    }
    const [row] = await meta.db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.hash, hash), eq(apiKeys.revoked, false)))
      .limit(1)
    if (!row) throw new ApiError('unauthorized', 'invalid API key')
    if (known.size > 10_000) known.clear()
    known.set(hash, { id: row.id, until: Date.now() + CACHE_MS })
    c.set('apiKeyId', row.id)
    return next()
  })
}
