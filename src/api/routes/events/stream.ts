import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { EVENT_TYPES } from '../../../outbox/envelopes.js'
import { streamPage } from '../../../outbox/stream.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdSchema, security } from '../../schemas.js'

/** A query parameter given once or repeated, or comma-separated. */
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter(Boolean)))
    .pipe(z.array(item))

const EnvelopeSchema = z
  .object({ id: z.string(), type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown()) })
  .openapi('EventEnvelope', {
    example: { id: 'k3v9x0a1b2', type: 'email.clicked', timestamp: '2026-11-23T10:14:03.120Z', data: { campaign: { id: 'spring-sale', name: 'Spring sale' }, recipientId: 'dupond', class: 'human' } },
  })

const route = createRoute({
  method: 'get',
  path: '/v1/events',
  operationId: 'streamEvents',
  tags: ['events'],
  summary: 'Pull the event stream (the webhook envelopes) after a cursor',
  description:
    'Events in insert order (a sequence the writer assigns, not their timestamp, so late arrivals are never skipped) after `after`, the `cursor` of the previous page: a cursor never skips nor repeats an event. JSON `{events, cursor, more}`, or NDJSON with `Accept: application/x-ndjson` (one envelope per line, the next cursor in the `X-Next-Cursor` header). `settle=verdict` (default) holds opens and clicks until the second classification pass has judged them.',
  security,
  request: {
    query: z.object({
      after: z.string().regex(/^\d{1,16}$/, 'must be a cursor returned by this endpoint').default('0'),
      types: list(z.enum(EVENT_TYPES)).openapi({ description: 'Comma-separated or repeated; default: every type', example: 'email.clicked,conversion.created' }),
      campaignId: list(CampaignIdSchema).openapi({ description: 'Comma-separated or repeated; default: every campaign' }),
      traffic: z.enum(['human', 'machine', 'all']).default('human'),
      settle: z.enum(['verdict', 'edge']).default('verdict'),
      limit: z.coerce.number().int().min(1).max(5000).default(500),
    }),
  },
  responses: {
    200: {
      description: 'A page',
      content: {
        'application/json': { schema: z.object({ events: z.array(EnvelopeSchema), cursor: z.string(), more: z.boolean() }).openapi('EventPage') },
        'application/x-ndjson': { schema: EnvelopeSchema },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerEventStream(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const page = await streamPage(c.get('deps'), {
      after: Number(q.after),
      types: q.types.length ? q.types : EVENT_TYPES,
      campaignIds: q.campaignId,
      traffic: q.traffic,
      settle: q.settle,
      limit: q.limit,
    })
    if (/application\/x-ndjson/i.test(c.req.header('accept') ?? '')) {
      const body = page.events.map((e) => JSON.stringify(e) + '\n').join('')
      return c.body(body, 200, { 'Content-Type': 'application/x-ndjson', 'X-Next-Cursor': page.cursor, 'X-More': String(page.more) }) as never
    }
    return c.json(page, 200)
  })
}
