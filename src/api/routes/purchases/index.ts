import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerNextPurchases } from './next.js'
import { registerTopPurchases } from './top.js'

/** Purchase patterns from the line items of conversions. */
export function registerPurchasesRoutes(app: OpenAPIHono<AppEnv>): void {
  registerTopPurchases(app)
  registerNextPurchases(app)
}
