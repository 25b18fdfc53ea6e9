import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { deleteTrigger } from '../../../outbox/triggers.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { TriggerIdParam } from './schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/triggers/{id}',
  operationId: 'deleteTrigger',
  tags: ['triggers'],
  summary: 'Delete a trigger and its members (events already emitted stay in the stream)',
  security,
  request: { params: TriggerIdParam },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(401, 404),
  },
})

export function registerDeleteTrigger(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    await deleteTrigger(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })
}
