import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerWakeUpAudience } from './audience.js'
import { registerPressureDistribution } from './distribution.js'
import { registerEngagement } from './engagement.js'
import { registerFatigue } from './fatigue.js'
import { registerPreferenceStats } from './preference-stats.js'
import { registerGetPreferences } from './preferences-get.js'
import { registerPutPreferences } from './preferences-put.js'
import { registerRecipientPressure } from './recipient-pressure.js'
import { registerRecipientProfile } from './recipient.js'
import { registerCreateRule } from './rules-create.js'
import { registerDeleteRule } from './rules-delete.js'
import { registerListRules } from './rules-list.js'

/** Pressure, preferences and engagement across campaigns (issue #22). */
export function registerPressureRoutes(app: OpenAPIHono<AppEnv>): void {
  registerPressureDistribution(app)
  registerFatigue(app)
  registerPreferenceStats(app)
  registerCreateRule(app)
  registerListRules(app)
  registerDeleteRule(app)
  registerRecipientPressure(app)
  registerGetPreferences(app)
  registerPutPreferences(app)
  registerRecipientProfile(app)
  registerEngagement(app)
  registerWakeUpAudience(app)
}
