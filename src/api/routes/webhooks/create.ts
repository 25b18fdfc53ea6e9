import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { createEndpoint } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { WebhookInput, WebhookWithSecret } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  operationId: 'createWebhook',
  tags: ['webhooks'],
  summary: 'Create a webhook endpoint (its signing secret is shown once)',
  description:
    'Events stored from now on that match are delivered (at least once, Standard Webhooks signatures, retried on the spec schedule). The URL must be http(s) and must not resolve to a loopback, private, link-local or reserved address unless the server runs with WEBHOOK_ALLOW_PRIVATE=1.',
  security,
  request: { body: jsonBody(WebhookInput) },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: WebhookWithSecret } } },
    ...errorResponses(400, 401, 415),
  },
})

export function registerCreateWebhook(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { endpoint, secret } = await createEndpoint(c.get('deps'), c.req.valid('json'))
    return c.json({ ...endpoint, secret }, 201)
  })
}
