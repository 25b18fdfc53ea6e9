import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerCreateApiKey } from './create.js'
import { registerListApiKeys } from './list.js'
import { registerRevokeApiKey } from './revoke.js'

/** Registers this area's routes on the app. */
export function registerApiKeysRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCreateApiKey(app)
  registerListApiKeys(app)
  registerRevokeApiKey(app)
}
