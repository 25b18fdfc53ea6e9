import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listMembers } from '../../../outbox/triggers.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { PageInfo, security } from '../../schemas.js'
import { TriggerIdParam } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/triggers/{id}/members',
  operationId: 'listTriggerMembers',
  tags: ['triggers'],
  summary: 'Recipients who entered the trigger, in order of entry',
  security,
  request: {
    params: TriggerIdParam,
    query: z.object({ limit: z.coerce.number().int().min(1).max(5000).default(500), offset: z.coerce.number().int().min(0).default(0) }),
  },
  responses: {
    200: {
      description: 'Members',
      content: { 'application/json': { schema: z.object({ items: z.array(z.object({ recipientId: z.string(), enteredAt: z.string() })), ...PageInfo }) } },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerTriggerMembers(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await listMembers(c.get('deps'), c.req.valid('param').id, c.req.valid('query')), 200))
}
