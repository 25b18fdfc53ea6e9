import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { getEndpointRow, publicEndpoint } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { WebhookIdParam, WebhookSchema } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  operationId: 'getWebhook',
  tags: ['webhooks'],
  summary: 'A webhook endpoint (never its secret)',
  security,
  request: { params: WebhookIdParam },
  responses: {
    200: { description: 'The endpoint', content: { 'application/json': { schema: WebhookSchema } } },
    ...errorResponses(401, 404),
  },
})

export function registerGetWebhook(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(publicEndpoint(await getEndpointRow(c.get('deps'), c.req.valid('param').id)), 200))
}
