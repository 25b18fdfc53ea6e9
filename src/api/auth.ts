import { createMiddleware } from 'hono/factory'
import { verifyApiKey } from '../services/auth-keys.js'
import type { AppEnv } from './context.js'
import { ApiError } from './errors.js'

/** `Authorization: Bearer <key>`, checked by verifyApiKey. */
export function bearerAuth() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) throw new ApiError('unauthorized', 'missing API key: send "Authorization: Bearer <key>"')
    const key = await verifyApiKey(c.get('deps'), m[1]!)
    if (!key) throw new ApiError('unauthorized', 'invalid API key')
    c.set('apiKeyId', key.id)
    c.set('apiKeyRole', key.role)
    return next()
  })
}

/** After bearerAuth: only the admin key or a key with the admin role passes; any other key gets a 403. */
export function requireAdmin(what: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.get('apiKeyRole') !== 'admin') {
      throw new ApiError('forbidden', `${what} needs an admin key (TRACKER_ADMIN_KEY or a key created with role "admin"); this key's role is ${c.get('apiKeyRole') ?? 'unknown'}`)
    }
    return next()
  })
}
