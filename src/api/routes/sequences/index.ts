import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerCreateSequence } from './create.js'
import { registerDeleteSequence } from './delete.js'
import { registerDue } from './due.js'
import { registerEnroll } from './enroll.js'
import { registerFunnel } from './funnel.js'
import { registerGetSequence } from './get.js'
import { registerListSequences } from './list.js'
import { registerEnrollment } from './unenroll.js'
import { registerUpdateSequence } from './update.js'

/** Registers this area's routes on the app. */
export function registerSequencesRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCreateSequence(app)
  registerListSequences(app)
  registerGetSequence(app)
  registerUpdateSequence(app)
  registerDeleteSequence(app)
  registerEnroll(app)
  registerEnrollment(app)
  registerDue(app)
  registerFunnel(app)
}
