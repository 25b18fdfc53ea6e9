import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { compareConversionsBy, CONVERSION_METRICS } from '../../../metrics/conversion-compare.js'
import { getCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { ComparisonSchema } from '../metrics/compare.js'
import { AttributionQuery, toAttribution } from '../../../metrics/query.js'
import { CurrencySchema } from './schemas.js'

const Query = AttributionQuery.extend({
  by: z.enum(['variant', 'segment']).default('variant').openapi({ param: { name: 'by', in: 'query' } }),
  metric: z.enum(CONVERSION_METRICS).default('conversion_rate').openapi({ param: { name: 'metric', in: 'query' } }),
  currency: CurrencySchema.optional().openapi({ param: { name: 'currency', in: 'query' }, description: 'Currency of revenue_per_recipient (default: the one with most revenue rows)' }),
  alpha: z.coerce.number().gt(0).lt(0.5).default(0.05).openapi({ param: { name: 'alpha', in: 'query' }, example: 0.05 }),
})

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/compare/conversions',
  operationId: 'compareVariantConversions',
  tags: ['conversions'],
  summary: 'Variants (or segments) side by side on conversion rate or revenue per recipient, with a significance test',
  description:
    'Rates: the same tests as /v1/campaigns/{id}/compare (two-proportion z-test, chi-square for more groups, winner only when significant). ' +
    'revenue_per_recipient: Welch z-test (large-sample, unequal variances) of the best group against the runner-up, the p-value Bonferroni-adjusted ' +
    'for the k(k−1)/2 pairs when there are more than two groups; fewer than 30 sent in a group → not_enough_data. Exact revenue strings beside the float statistics.',
  security,
  request: { params: CampaignIdParam, query: Query },
  responses: {
    200: {
      description: 'Comparison',
      content: {
        'application/json': {
          schema: ComparisonSchema,
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerCompareConversions(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    await getCampaign(deps, id)
    return c.json(await compareConversionsBy(deps.events, id, q.by, q.metric, q.alpha, { ...toAttribution(q), currency: q.currency, dropEmptyKey: q.by === 'variant' }), 200)
  })
}
