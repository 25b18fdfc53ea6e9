import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'

/** Registers this area's routes on the app. */
export function registerConversionsRoutes(_app: OpenAPIHono<AppEnv>): void {}
