import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listDeliveries } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { PageInfo, security } from '../../schemas.js'
import { DeliverySchema, WebhookIdParam } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['webhooks'],
  summary: "An endpoint's delivery log, newest first",
  security,
  request: {
    params: WebhookIdParam,
    query: z.object({
      status: z.enum(['pending', 'succeeded', 'failed']).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
  },
  responses: {
    200: { description: 'Deliveries', content: { 'application/json': { schema: z.object({ items: z.array(DeliverySchema), ...PageInfo }) } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerListDeliveries(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await listDeliveries(c.get('deps'), c.req.valid('param').id, c.req.valid('query')), 200))
}
