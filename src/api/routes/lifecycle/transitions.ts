import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { lifecycleTransitions } from '../../../metrics/lifecycle-flow.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdSchema, security } from '../../schemas.js'
import { AtQuery, HorizonQuery, MatrixSchema, PurchaseTypeQuery, StageQuery, ThresholdsSchema, stageOptions } from './schemas.js'

const Query = StageQuery.extend({
  horizon: HorizonQuery('P30D'),
  at: AtQuery,
  type: PurchaseTypeQuery,
  windows: z.coerce.number().int().min(1).max(24).default(6).openapi({ param: { name: 'windows', in: 'query' }, example: 6, description: 'How many consecutive past windows (the trend)' }),
  campaignId: CampaignIdSchema.optional().openapi({ param: { name: 'campaignId', in: 'query' }, description: 'Compare its recipients with its holdout (or, without one, with the customers not sent it) from its first send to one horizon later' }),
  segment: z.string().min(1).max(128).optional().openapi({ param: { name: 'segment', in: 'query' }, description: 'Only customers the sends placed in this segment' }),
})

const route = createRoute({
  method: 'get',
  path: '/v1/lifecycle/transitions',
  operationId: 'getLifecycleTransitions',
  tags: ['conversions'],
  summary: 'Where customers in each lifecycle stage are one horizon later: counts, shares, Wilson intervals, per window',
  description:
    'Stages as in /v1/lifecycle (same thresholds and parameters), computed at each instant from the purchases up to it. ' +
    'With campaignId, `campaign` compares its recipients with its holdout (measuredLift true) or, when none was recorded, with the customers not sent it (measuredLift false, said in `note`).',
  security,
  request: { query: Query },
  responses: {
    200: {
      description: 'Transition matrices, oldest window first',
      content: {
        'application/json': {
          schema: z.object({
            asOf: z.string(),
            horizonDays: z.number().int(),
            thresholds: ThresholdsSchema,
            definitions: z.record(z.string(), z.string()),
            windows: z.array(z.object({ from: z.string(), to: z.string(), customers: z.number().int(), acquired: z.number().int(), rows: MatrixSchema })),
            campaign: z
              .object({
                campaignId: z.string(),
                segment: z.string().nullable(),
                start: z.string(),
                end: z.string(),
                complete: z.boolean(),
                sent: z.object({ customers: z.number().int(), rows: MatrixSchema }),
                comparison: z.object({ group: z.enum(['holdout', 'not_sent']), customers: z.number().int(), rows: MatrixSchema }),
                measuredLift: z.boolean(),
                note: z.string(),
                lift: z.array(z.object({ from: z.string(), to: z.string(), sent: z.number(), comparison: z.number(), difference: z.number(), low: z.number(), high: z.number() })),
                method: z.string(),
              })
              .optional(),
            method: z.string(),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerLifecycleTransitions(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const result = await lifecycleTransitions(deps.events, {
      ...stageOptions(q, deps.clock),
      horizonDays: q.horizon,
      windows: q.windows,
      campaignId: q.campaignId,
      segment: q.segment,
    })
    return c.json(result, 200)
  })
}
