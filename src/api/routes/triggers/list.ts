import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listTriggers } from '../../../outbox/triggers.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { TriggerSchema } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/triggers',
  operationId: 'listTriggers',
  tags: ['triggers'],
  summary: 'List triggers with their member counts',
  security,
  responses: {
    200: { description: 'Every trigger, newest first', content: { 'application/json': { schema: z.object({ items: z.array(TriggerSchema) }) } } },
    ...errorResponses(401),
  },
})

export function registerListTriggers(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json({ items: await listTriggers(c.get('deps')) }, 200))
}
