import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerCampaignStats } from './campaign-stats.js'
import { registerCompare } from './compare.js'
import { registerLinkStats } from './link-stats.js'
import { registerSegments } from './segments.js'

/** Registers this area's routes on the app. */
export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCampaignStats(app)
  registerLinkStats(app)
  registerSegments(app)
  registerCompare(app)
}
