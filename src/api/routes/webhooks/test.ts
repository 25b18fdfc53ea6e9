import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { getEndpointRow } from '../../../outbox/endpoints.js'
import { pingEndpoint } from '../../../outbox/outbox.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { WebhookIdParam } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  operationId: 'testWebhook',
  tags: ['webhooks'],
  summary: 'Send a signed webhook.test event now and report the answer',
  security,
  request: { params: WebhookIdParam },
  responses: {
    200: {
      description: 'What the receiver answered (ok: a 2xx)',
      content: {
        'application/json': {
          schema: z.object({ ok: z.boolean(), status: z.number().int(), durationMs: z.number().int(), responseExcerpt: z.string(), error: z.string().nullable() }).openapi('WebhookTest'),
        },
      },
    },
    ...errorResponses(401, 404),
  },
})

export function registerTestWebhook(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const r = await pingEndpoint(deps, await getEndpointRow(deps, c.req.valid('param').id))
    return c.json({ ok: r.status >= 200 && r.status < 300, status: r.status, durationMs: r.durationMs, responseExcerpt: r.excerpt, error: r.error }, 200)
  })
}
