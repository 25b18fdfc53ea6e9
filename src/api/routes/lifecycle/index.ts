import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerLifecycleTransitions } from './transitions.js'
import { registerLifecycleValue } from './value.js'

/** The predictive lifecycle figures (GET /v1/lifecycle itself is with the conversions). */
export function registerLifecycleRoutes(app: OpenAPIHono<AppEnv>): void {
  registerLifecycleTransitions(app)
  registerLifecycleValue(app)
}
