import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { eraseRecipient } from '../../../services/erasure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/recipients/{id}',
  operationId: 'eraseRecipient',
  tags: ['suppressions'],
  summary: "Erase a recipient's sends and events (right to erasure)",
  description:
    'Deletes every send and event of the recipient from ClickHouse (synchronously), after flushing the journal. Suppression entries are kept so the opt-out is still honoured. ' +
    'The erasure is written to the audit log with the API key. An event arriving while or after the delete runs (a late click) is stored again.',
  security,
  request: { params: z.object({ id: z.string().min(1).max(256).openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: {
      description: 'Erased',
      content: {
        'application/json': {
          schema: z.object({ recipientId: z.string(), erased: z.object({ events: z.number().int(), sends: z.number().int() }), suppressionsKept: z.array(z.string()) }),
        },
      },
    },
    ...errorResponses(400, 401, 503),
  },
})

export function registerDeleteRecipient(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const r = await eraseRecipient(deps, id)
    deps.log.info('recipient_erased', {
      recipientId: id,
      events: r.events,
      sends: r.sends,
      suppressionsKept: r.suppressionsKept,
      apiKeyId: c.get('apiKeyId'),
      requestId: c.get('requestId'),
    })
    return c.json({ recipientId: id, erased: { events: r.events, sends: r.sends }, suppressionsKept: r.suppressionsKept }, 200)
  })
}
