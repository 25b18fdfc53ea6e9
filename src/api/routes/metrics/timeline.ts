import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { recipientSequences } from '../../../metrics/sequence-timeline.js'
import { recipientTimeline } from '../../../metrics/timeline.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdSchema, security } from '../../schemas.js'
import { AttributionQuery, toWindow, TRAFFIC_DESCRIPTION } from '../../../metrics/query.js'
import { catchUpSequenceMirror } from '../../../services/sequences.js'

const LinkSchema = z.object({ id: z.string(), url: z.string().nullable(), label: z.string().nullable(), position: z.number().int().nullable() })

const ConversionSchema = z
  .object({
    orderId: z.string(),
    type: z.string().openapi({ description: 'The conversion type given when it was recorded (default purchase)' }),
    attribution: z.enum(['click', 'recipient', 'unattributed']).openapi({ description: 'click: by its click id; recipient: by the recipient\'s last touch within attributionWindow; unattributed: neither' }),
    touch: z
      .object({ type: z.enum(['click', 'open']), campaignId: z.string(), linkId: z.string(), at: z.string().nullable(), link: LinkSchema.nullable() })
      .nullable()
      .openapi({ description: 'The click (or open, with attribution=open) that led to the conversion' }),
  })
  .nullable()

const Query = AttributionQuery.extend({
  traffic: z.enum(['human', 'machine', 'all']).default('all').openapi({ param: { name: 'traffic', in: 'query' }, description: `${TRAFFIC_DESCRIPTION}. Default here: all, each event showing its class` }),
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z.string().max(500).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'The `next` of the previous page' }),
  campaignId: CampaignIdSchema.optional().openapi({ param: { name: 'campaignId', in: 'query' }, description: 'Only this campaign' }),
})

const route = createRoute({
  method: 'get',
  path: '/v1/recipients/{recipientId}/timeline',
  operationId: 'getRecipientTimeline',
  tags: ['metrics'],
  summary: 'Every event of one recipient across campaigns, newest first',
  description:
    'Opens, clicks (with the link\'s url, label and position), unsubscribes and conversions, newest first, `limit` per page; follow `next` for older events (null on the last page). Unlike the aggregate endpoints, `traffic` defaults to all here: machine events (Apple MPP prefetches, scanner clicks) are listed with their `class` and `reasons` so support can explain what happened. A conversion carries `conversion`: its order id and the click that led to it (its click id\'s click, or the last click — or open with attribution=open — within `attributionWindow`, default 7d). An unknown recipient gives an empty list.',
  security,
  request: {
    params: z.object({ recipientId: z.string().min(1).max(256).openapi({ param: { name: 'recipientId', in: 'path' }, example: 'cust-42' }) }),
    query: Query,
  },
  responses: {
    200: {
      description: 'A page of events',
      content: {
        'application/json': {
          schema: z
            .object({
              recipientId: z.string(),
              traffic: z.enum(['human', 'machine', 'all']),
              events: z.array(
                z.object({
                  eventId: z.string(),
                  type: z.string(),
                  at: z.string(),
                  campaignId: z.string(),
                  link: LinkSchema.nullable(),
                  class: z.string(),
                  reasons: z.array(z.string()),
                  proxy: z.string(),
                  client: z.object({ name: z.string(), os: z.string(), device: z.string() }),
                  amount: z.string().nullable(),
                  currency: z.string().nullable(),
                  conversion: ConversionSchema.openapi({ description: 'Conversions only (null otherwise): the order and the touch that led to it' }),
                }),
              ),
              next: z.string().nullable(),
              sequences: z
                .array(
                  z.object({
                    sequenceId: z.string(),
                    enteredAt: z.string(),
                    status: z.string(),
                    steps: z.array(z.object({ stepId: z.string(), campaignId: z.string(), sentAt: z.string() })),
                    exit: z.object({ reason: z.string(), stepId: z.string(), at: z.string() }).nullable(),
                  }),
                )
                .optional()
                .openapi({ description: 'First page only: the recipient\'s entries into sequences, oldest first, with the steps sent and how each ended' }),
            })
            .openapi('Timeline', {
              example: {
                recipientId: 'dupond',
                traffic: 'all',
                events: [
                  {
                    eventId: '0b6f2c1e-…',
                    type: 'click',
                    at: '2026-11-24T14:02:11.204Z',
                    campaignId: 'spring-sale',
                    link: { id: 'x7Kq2mB9aP0z', url: 'https://shop.example/spring', label: 'Hero button', position: 1 },
                    class: 'human',
                    reasons: [],
                    proxy: '',
                    client: { name: 'Chrome', os: 'Windows', device: 'desktop' },
                    amount: null,
                    currency: null,
                    conversion: null,
                  },
                  {
                    eventId: '5d0c…',
                    type: 'conversion',
                    at: '2026-11-24T14:20:03.000Z',
                    campaignId: '',
                    link: null,
                    class: 'human',
                    reasons: [],
                    proxy: '',
                    client: { name: '', os: '', device: '' },
                    amount: '49.90',
                    currency: 'EUR',
                    conversion: {
                      orderId: 'A-1043',
                      type: 'purchase',
                      attribution: 'recipient',
                      touch: { type: 'click', campaignId: 'spring-sale', linkId: 'x7Kq2mB9aP0z', at: '2026-11-24T14:02:11.204Z', link: { id: 'x7Kq2mB9aP0z', url: 'https://shop.example/spring', label: 'Hero button', position: 1 } },
                    },
                  },
                ],
                next: 'WyIyMDI2LTExLTI0IDE0OjAyOjExLjIwNCIsIjBiNmYyYzFlIl0',
              },
            }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerTimeline(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { recipientId } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = toWindow(q, 'all')
    const page = await recipientTimeline(deps.events, deps.meta, recipientId, w, { limit: q.limit, cursor: q.cursor, campaignId: q.campaignId, attribution: { windowMs: q.attributionWindow, model: q.attribution } })
    if (q.cursor) return c.json(page, 200)
    // The exits `due` marked reach ClickHouse after its answer: written before reading.
    await catchUpSequenceMirror(deps)
    return c.json({ ...page, sequences: await recipientSequences(deps, recipientId) }, 200)
  })
}
