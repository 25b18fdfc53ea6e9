import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { lifecycleValue } from '../../../metrics/lifecycle-flow.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { AtQuery, HorizonQuery, PurchaseTypeQuery, StageQuery, ThresholdsSchema, stageOptions } from './schemas.js'

const Query = StageQuery.extend({ horizon: HorizonQuery('P90D'), at: AtQuery, type: PurchaseTypeQuery })

const Span = z.object({ from: z.string(), to: z.string() })

const route = createRoute({
  method: 'get',
  path: '/v1/lifecycle/value',
  operationId: 'getLifecycleValue',
  tags: ['conversions'],
  summary: 'What a customer in each lifecycle stage is worth over the next horizon, measured, with its back-test',
  description:
    'For the customers in each stage one horizon before asOf: their revenue over the horizon since, per customer and currency (from exact sums, in the currency\'s own decimals), with a 95% interval and the count it rests on. ' +
    '`backtest` is the same figure one horizon earlier set against what then happened.',
  security,
  request: { query: Query },
  responses: {
    200: {
      description: 'Value per stage',
      content: {
        'application/json': {
          schema: z.object({
            asOf: z.string(),
            horizonDays: z.number().int(),
            thresholds: ThresholdsSchema,
            window: Span,
            backtestWindow: Span,
            stages: z.array(
              z.object({
                stage: z.enum(['new', 'active', 'lapsing', 'lapsed']),
                customers: z.number().int(),
                definition: z.string(),
                value: z.array(z.object({ currency: z.string(), revenue: z.string(), mean: z.string().openapi({ example: '41.25' }), low: z.string(), high: z.string() })),
                backtest: z.array(
                  z.object({
                    currency: z.string(),
                    predicted: z.string(),
                    actual: z.string().nullable(),
                    error: z.string().nullable(),
                    relativeError: z.number().nullable(),
                    withinInterval: z.boolean().nullable(),
                    customers: z.number().int(),
                  }),
                ),
              }),
            ),
            method: z.string(),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerLifecycleValue(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const result = await lifecycleValue(deps.events, {
      ...stageOptions(q, deps.clock),
      horizonDays: q.horizon,
    })
    return c.json(result, 200)
  })
}
