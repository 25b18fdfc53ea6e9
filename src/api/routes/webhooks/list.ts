import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listEndpoints } from '../../../outbox/endpoints.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { WebhookSchema } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  operationId: 'listWebhooks',
  tags: ['webhooks'],
  summary: 'List webhook endpoints (never their secrets)',
  security,
  responses: {
    200: { description: 'Every endpoint, newest first', content: { 'application/json': { schema: z.object({ items: z.array(WebhookSchema) }) } } },
    ...errorResponses(401),
  },
})

export function registerListWebhooks(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json({ items: await listEndpoints(c.get('deps')) }, 200))
}
