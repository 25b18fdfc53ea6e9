import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerCampaignConversions } from './campaign.js'
import { registerUpdateCampaign } from './campaign-tracking.js'
import { registerCompareConversions } from './compare.js'
import { registerCreateConversion } from './create.js'
import { registerLifecycle } from './lifecycle.js'
import { registerConversionPixel } from './pixel.js'
import { registerLandingScript } from './script.js'

/** Registers this area's routes on the app. */
export function registerConversionsRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCreateConversion(app)
  registerConversionPixel(app)
  registerLandingScript(app)
  registerCampaignConversions(app)
  registerLifecycle(app)
  registerCompareConversions(app)
  // PATCH /v1/campaigns/{id} lives here until the campaigns area takes it: it exists for the tracking settings.
  registerUpdateCampaign(app)
}
