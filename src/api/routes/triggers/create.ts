import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { createTrigger } from '../../../outbox/triggers.js'
import { audienceSelection, parseAudienceQuery } from '../../../metrics/audience-filter.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { AudienceSchema, TriggerSchema } from './schemas.js'

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

const route = createRoute({
  method: 'post',
  path: '/v1/triggers',
  operationId: 'createTrigger',
  tags: ['triggers'],
  summary: 'Create an audience trigger: audience.entered once per recipient who enters the audience',
  description:
    'The audience is evaluated every `every` (default 15m; s, m, h or d), first soon after creation. Each recipient in it emits one `audience.entered` event (id derived from the trigger and the recipient) to the subscribed webhooks and the event stream, once: leaving and re-entering does not emit again.',
  security,
  request: {
    body: jsonBody(
      z
        .object({
          name: z.string().min(1).max(200).openapi({ example: 'Clicked the hero, no purchase in 7 days' }),
          audience: AudienceSchema,
          every: z.string().regex(/^\d{1,6}[smhd]$/, 'must be a number and a unit: s, m, h or d (e.g. 15m)').optional().openapi({ example: '15m' }),
        })
        .strict(),
    ),
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: TriggerSchema } } },
    ...errorResponses(400, 401, 404, 415),
  },
})

export function registerCreateTrigger(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const body = c.req.valid('json')
    // Checked now as the audience endpoint checks it (400 on a bad filter, 404 on an unknown campaign), not at the first run.
    if ('campaignId' in body.audience) await audienceSelection(deps, body.audience.campaignId, parseAudienceQuery(body.audience.filter))
    const everyMs = body.every ? Number(body.every.slice(0, -1)) * UNIT_MS[body.every.slice(-1) as keyof typeof UNIT_MS] : undefined
    return c.json(await createTrigger(deps, { name: body.name, audience: body.audience, everyMs }), 201)
  })
}
