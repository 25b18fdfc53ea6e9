import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { deleteEndpoint } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { WebhookIdParam } from './schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  operationId: 'deleteWebhook',
  tags: ['webhooks'],
  summary: 'Delete a webhook endpoint and its delivery log',
  security,
  request: { params: WebhookIdParam },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(401, 404),
  },
})

export function registerDeleteWebhook(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    await deleteEndpoint(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })
}
