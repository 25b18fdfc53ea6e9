import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { updateEndpoint } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { WebhookIdParam, WebhookInput, WebhookSchema } from './schemas.js'

const route = createRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  operationId: 'updateWebhook',
  tags: ['webhooks'],
  summary: 'Change a webhook endpoint; enabled: true re-enables a disabled one (its backlog resumes)',
  security,
  request: { params: WebhookIdParam, body: jsonBody(WebhookInput.partial().extend({ enabled: z.boolean().optional() }).strict()) },
  responses: {
    200: { description: 'The endpoint', content: { 'application/json': { schema: WebhookSchema } } },
    ...errorResponses(400, 401, 404, 415),
  },
})

export function registerUpdateWebhook(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await updateEndpoint(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 200))
}
