import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerClientBreakdown } from './clients.js'
import { registerReclassify } from './reclassify.js'

/** Registers this area's routes on the app. */
export function registerClassificationRoutes(app: OpenAPIHono<AppEnv>): void {
  registerClientBreakdown(app)
  registerReclassify(app)
}
