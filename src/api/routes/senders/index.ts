import type { OpenAPIHono } from '@hono/zod-openapi'
import { registerUnsubscribeRoutes } from '../reader/unsubscribe.js'
import type { AppEnv } from '../../context.js'
import { registerDeleteRecipient } from './recipients-delete.js'
import { registerRender } from './render.js'
import { registerSuppressionRoutes } from './suppressions.js'
import { registerCreateTemplate } from './templates-create.js'
import { registerGetTemplate } from './templates-get.js'

/** Registers this area's routes on the app. */
export function registerSendersRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCreateTemplate(app)
  registerGetTemplate(app)
  registerRender(app)
  registerSuppressionRoutes(app)
  registerDeleteRecipient(app)
  registerUnsubscribeRoutes(app)
}
