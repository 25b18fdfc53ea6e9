import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerAudience } from './audience.js'
import { registerCampaignStats } from './campaign-stats.js'
import { registerCompare } from './compare.js'
import { registerLinkStats } from './link-stats.js'
import { registerSegments } from './segments.js'
import { registerTimeline } from './timeline.js'
import { registerTimeseries } from './timeseries.js'
import { registerTiming } from './timing.js'

/** Registers this area's routes on the app. */
export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCampaignStats(app)
  registerLinkStats(app)
  registerSegments(app)
  registerCompare(app)
  registerTimeseries(app)
  registerTiming(app)
  registerTimeline(app)
  registerAudience(app)
}
