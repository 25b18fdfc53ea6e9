import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { getTrigger } from '../../../outbox/triggers.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { TriggerIdParam, TriggerSchema } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/triggers/{id}',
  operationId: 'getTrigger',
  tags: ['triggers'],
  summary: 'A trigger, with its member count and last run',
  security,
  request: { params: TriggerIdParam },
  responses: {
    200: { description: 'The trigger', content: { 'application/json': { schema: TriggerSchema } } },
    ...errorResponses(401, 404),
  },
})

export function registerGetTrigger(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await getTrigger(c.get('deps'), c.req.valid('param').id), 200))
}
