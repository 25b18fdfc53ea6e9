import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { getEnrollment, removeEnrollment } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { EnrollmentSchema, RecipientIdParam } from './schemas.js'

const removeRoute = createRoute({
  method: 'delete',
  path: '/v1/sequences/{id}/enrollments/{recipientId}',
  operationId: 'unenrollFromSequence',
  tags: ['sequences'],
  summary: 'Take a recipient out of a sequence',
  description: 'An active recipient exits with reason `removed` and is never due again (re-entry only with `reenter: true`). Removing again, or removing someone who already left, answers their entry unchanged.',
  security,
  request: { params: RecipientIdParam },
  responses: {
    200: { description: 'The entry', content: { 'application/json': { schema: EnrollmentSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

const getRoute = createRoute({
  method: 'get',
  path: '/v1/sequences/{id}/enrollments/{recipientId}',
  operationId: 'getSequenceEnrollment',
  tags: ['sequences'],
  summary: 'A recipient\'s entry: next step, due time, steps sent, exit',
  security,
  request: { params: RecipientIdParam },
  responses: {
    200: { description: 'The entry', content: { 'application/json': { schema: EnrollmentSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerEnrollment(app: OpenAPIHono<AppEnv>) {
  app.openapi(removeRoute, async (c) => {
    const { id, recipientId } = c.req.valid('param')
    return c.json(await removeEnrollment(c.get('deps'), id, recipientId), 200)
  })
  app.openapi(getRoute, async (c) => {
    const { id, recipientId } = c.req.valid('param')
    return c.json(await getEnrollment(c.get('deps'), id, recipientId), 200)
  })
}
