import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { deleteSequence } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { SequenceIdParam } from './schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/sequences/{id}',
  operationId: 'deleteSequence',
  tags: ['sequences'],
  summary: 'Delete a sequence, its enrolments and its funnel history',
  description: 'The campaigns of its steps, their sends and events stay.',
  security,
  request: { params: SequenceIdParam },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(400, 401, 404),
  },
})

export function registerDeleteSequence(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    await deleteSequence(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })
}
