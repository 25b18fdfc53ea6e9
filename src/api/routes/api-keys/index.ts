import type { OpenAPIHono } from '@hono/zod-openapi'
import { requireAdmin } from '../../auth.js'
import type { AppEnv } from '../../context.js'
import { registerCreateApiKey } from './create.js'
import { registerListApiKeys } from './list.js'
import { registerRevokeApiKey } from './revoke.js'
import { registerUpdateApiKey } from './update.js'

/** Registers this area's routes on the app: all of them admin-only, checked before any input is read. */
export function registerApiKeysRoutes(app: OpenAPIHono<AppEnv>): void {
  // '/v1/api-keys/*' matches '/v1/api-keys' itself too; bearerAuth ('/v1/*') ran before.
  app.use('/v1/api-keys/*', requireAdmin('managing API keys'))
  registerCreateApiKey(app)
  registerListApiKeys(app)
  registerRevokeApiKey(app)
  registerUpdateApiKey(app)
}
