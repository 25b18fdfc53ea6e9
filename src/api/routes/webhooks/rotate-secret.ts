import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { rotateSecret } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { WebhookIdParam, WebhookWithSecret } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/rotate-secret',
  operationId: 'rotateWebhookSecret',
  tags: ['webhooks'],
  summary: 'New signing secret (shown once); the old one also signs for 24 h',
  description: 'During the overlap every request carries two signatures in webhook-signature (space-separated), one per secret, as the Standard Webhooks specification allows: a receiver with either secret verifies.',
  security,
  request: { params: WebhookIdParam },
  responses: {
    200: { description: 'The endpoint with its new secret', content: { 'application/json': { schema: WebhookWithSecret } } },
    ...errorResponses(401, 404),
  },
})

export function registerRotateWebhookSecret(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { endpoint, secret } = await rotateSecret(c.get('deps'), c.req.valid('param').id)
    return c.json({ ...endpoint, secret }, 200)
  })
}
