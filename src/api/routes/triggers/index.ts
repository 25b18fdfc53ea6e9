import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerCreateTrigger } from './create.js'
import { registerDeleteTrigger } from './delete.js'
import { registerGetTrigger } from './get.js'
import { registerListTriggers } from './list.js'
import { registerTriggerMembers } from './members.js'

/** Registers this area's routes on the app. */
export function registerTriggersRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCreateTrigger(app)
  registerListTriggers(app)
  registerGetTrigger(app)
  registerDeleteTrigger(app)
  registerTriggerMembers(app)
}
