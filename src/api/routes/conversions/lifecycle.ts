import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { lifecycle } from '../../../metrics/lifecycle.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { AtQuery, PurchaseTypeQuery, StageQuery } from '../lifecycle/schemas.js'
import { CurrencySchema } from './schemas.js'

const Query = StageQuery.extend({
  at: AtQuery,
  type: PurchaseTypeQuery,
  currency: CurrencySchema.optional().openapi({ param: { name: 'currency', in: 'query' }, description: 'Currency of revenueShare (default: the one with most orders)' }),
  horizonDays: z.coerce.number().int().min(1).max(3650).default(365).openapi({ param: { name: 'horizonDays', in: 'query' }, example: 365, description: 'Customers first seen at least this long ago estimate lapseAfterDays' }),
  lapseProbability: z.coerce.number().gt(0).lt(1).default(0.5).openapi({ param: { name: 'lapseProbability', in: 'query' }, example: 0.5 }),
})

const Share = z.object({ firstPurchase: z.number(), repeat: z.number(), revenue: z.object({ firstPurchase: z.string(), repeat: z.string() }) })

const route = createRoute({
  method: 'get',
  path: '/v1/lifecycle',
  operationId: 'getLifecycle',
  tags: ['conversions'],
  summary: "Customers' purchase rhythm: first vs repeat revenue, time to second purchase, lapse day, stages",
  description:
    'Customers are recipient ids with purchases. Each figure states its method in the response. Durations are in days. ' +
    'Stages: new (first purchase < newDays ago), active (else last purchase < activeDays ago), lapsing (else < lapsedDays ago), lapsed.',
  security,
  request: { query: Query },
  responses: {
    200: {
      description: 'Lifecycle figures',
      content: {
        'application/json': {
          schema: z.object({
            asOf: z.string(),
            customers: z.number().int(),
            orders: z.number().int(),
            revenueShare: Share.extend({ currency: z.string().nullable(), method: z.string() }),
            revenueShareByCurrency: z.record(z.string(), Share),
            timeToSecondPurchase: z.object({ customers: z.number().int(), median: z.number().nullable(), p25: z.number().nullable(), p75: z.number().nullable(), p90: z.number().nullable(), method: z.string() }),
            lapseAfterDays: z.number().int().nullable().openapi({ example: 47 }),
            lapse: z.object({ threshold: z.number(), horizonDays: z.number(), observedCustomers: z.number().int(), method: z.string() }),
            thresholds: z.object({ newDays: z.number(), activeDays: z.number(), lapsedDays: z.number(), revenueWindowDays: z.number() }),
            stages: z.array(z.object({ stage: z.enum(['new', 'active', 'lapsing', 'lapsed']), customers: z.number().int(), definition: z.string(), revenueLast30Days: z.record(z.string(), z.string()) })),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerLifecycle(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const result = await lifecycle(deps.events, {
      now: q.at ? Date.parse(q.at) : deps.clock(),
      kind: q.type,
      currency: q.currency,
      newDays: q.newDays,
      activeDays: q.activeDays,
      lapsedDays: q.lapsedDays,
      horizonDays: q.horizonDays,
      lapseProbability: q.lapseProbability,
    })
    return c.json(result, 200)
  })
}
