import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { retryDelivery } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { DeliverySchema, WebhookIdParam } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/deliveries/{deliveryId}/retry',
  operationId: 'retryWebhookDelivery',
  tags: ['webhooks'],
  summary: 'Send a delivery again now (same body, same webhook-id)',
  security,
  request: { params: WebhookIdParam.extend({ deliveryId: z.string().min(1).max(100).openapi({ param: { name: 'deliveryId', in: 'path' } }) }) },
  responses: {
    200: { description: 'The delivery, queued', content: { 'application/json': { schema: DeliverySchema } } },
    ...errorResponses(401, 404),
  },
})

export function registerRetryDelivery(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { id, deliveryId } = c.req.valid('param')
    return c.json(await retryDelivery(c.get('deps'), id, deliveryId), 200)
  })
}
