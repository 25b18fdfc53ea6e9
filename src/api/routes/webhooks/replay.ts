import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { getEndpointRow } from '../../../outbox/endpoints.js'
import { replayEndpoint } from '../../../outbox/outbox.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { EventTypeSchema, WebhookIdParam } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/replay',
  operationId: 'replayWebhook',
  tags: ['webhooks'],
  summary: "Deliver again the endpoint's events with a timestamp in [from, to]",
  description: 'New deliveries of the same envelopes (same ids: a receiver that deduplicates on webhook-id sees nothing twice), with the current verdict of each event, at most 100,000 events per call (truncated: true says to call again with a later from).',
  security,
  request: {
    params: WebhookIdParam,
    body: jsonBody(
      z
        .object({
          from: z.iso.datetime({ offset: true }).openapi({ example: '2026-11-23T00:00:00Z' }),
          to: z.iso.datetime({ offset: true }).openapi({ example: '2026-11-24T00:00:00Z' }),
          types: z.array(EventTypeSchema).optional(),
        })
        .strict(),
    ),
  },
  responses: {
    202: {
      description: 'Queued',
      content: { 'application/json': { schema: z.object({ queued: z.number().int(), deliveries: z.number().int(), truncated: z.boolean() }).openapi('WebhookReplay') } },
    },
    ...errorResponses(400, 401, 404, 415),
  },
})

export function registerReplayWebhook(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const body = c.req.valid('json')
    const endpoint = await getEndpointRow(deps, c.req.valid('param').id)
    return c.json(await replayEndpoint(deps, endpoint, Date.parse(body.from), Date.parse(body.to), body.types), 202)
  })
}
