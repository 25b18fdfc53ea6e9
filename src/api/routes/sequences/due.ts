import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { dueRecipients } from '../../../services/sequences.js'
import type { TypedResponse } from 'hono'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { SequenceIdParam } from './schemas.js'

const DueAnswer = z.object({
  sequenceId: z.string(),
  until: z.string(),
  due: z.array(
    z.object({
      recipientId: z.string(),
      stepId: z.string(),
      campaignId: z.string(),
      dueAt: z.string(),
      enteredAt: z.string(),
      variant: z.string().nullable(),
      segments: z.array(z.string()),
      attributes: z.record(z.string(), z.string()),
    }),
  ),
  skipped: z.object({ converted: z.number().int(), unsubscribed: z.number().int(), suppressed: z.number().int(), erased: z.number().int() }),
  next: z.string().nullable(),
})

const route = createRoute({
  method: 'get',
  path: '/v1/sequences/{id}/due',
  operationId: 'getSequenceDue',
  tags: ['sequences'],
  summary: 'Who is due for which step',
  description:
    'Active recipients whose next step is due by `until` (default now), in due order, `limit` a page; follow `next` (null on the last page). ' +
    'Before anyone is listed, their exits are checked: a global or step-campaign suppression (unsubscribed, suppressed), an erasure, a goal conversion within the window. ' +
    'Those recipients are marked exited at that step and counted under `skipped`; no later call lists them. Send each step with ' +
    '`POST /v1/campaigns/{campaignId}/sends` (or `/render`) and `"sequence": {"id", "stepId"}`: the recipient then moves to their next step and is never due twice for one step.',
  security,
  request: {
    params: SequenceIdParam,
    query: z.object({
      until: z.iso.datetime({ offset: true }).optional().openapi({ param: { name: 'until', in: 'query' }, example: '2026-11-26T09:00:00Z' }),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000).openapi({ param: { name: 'limit', in: 'query' } }),
      cursor: z.string().max(1000).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'The `next` of the previous page' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of due recipients',
      content: {
        'application/json': {
          schema: DueAnswer,
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerDue(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const until = q.until ? new Date(q.until) : new Date(deps.clock())
    const p = await dueRecipients(deps, c.req.valid('param').id, { until, limit: q.limit, cursor: q.cursor })
    // The items come as JSON text from the database: spliced in, not parsed and serialized again (10,000 of them).
    const body = `{"sequenceId":${JSON.stringify(p.sequenceId)},"until":${JSON.stringify(p.until)},"due":${p.dueJson},"skipped":${JSON.stringify(p.skipped)},"next":${JSON.stringify(p.next)}}`
    // As bytes: node writes a 1.9 MB string to the socket at ~8 ms more CPU than the same bytes encoded once here.
    return c.body(Buffer.from(body), 200, { 'content-type': 'application/json' }) as unknown as TypedResponse<z.infer<typeof DueAnswer>, 200, 'json'>
  })
}
