import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { compareCampaigns, compareVariants, projectCampaign, type CompareMetric } from '../../../metrics/compare.js'
import { compareCampaignConversions, compareConversionsBy, CONVERSION_METRICS, type ConversionMetric } from '../../../metrics/conversion-compare.js'
import type { AttributionOptions } from '../../../metrics/attribution.js'
import { AttributionQuery, campaignWindow, toAttribution, toWindow, WindowQuery } from '../../../metrics/query.js'
import { CurrencySchema } from '../conversions/schemas.js'
import { getCampaigns } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CAMPAIGN_ID_PATTERN, CampaignIdParam, security } from '../../schemas.js'
import { IntervalSchema, UNIQUES_NOTE } from './common.js'

const METRICS = ['open_rate', 'click_rate', 'click_to_open_rate', ...CONVERSION_METRICS] as const

const CompareQuery = AttributionQuery.extend({
  metric: z.enum(METRICS).default('click_rate').openapi({
    param: { name: 'metric', in: 'query' },
    description: 'open_rate, click_rate, click_to_open_rate; or on conversions: conversion_rate (converters / sent), clicker_conversion_rate (converters / clickers), revenue_per_recipient (in `currency`)',
  }),
  currency: CurrencySchema.optional().openapi({ param: { name: 'currency', in: 'query' }, description: 'Currency of revenue_per_recipient (default: the one with most orders)' }),
  alpha: z.coerce.number().gt(0).lt(0.5).default(0.05).openapi({ param: { name: 'alpha', in: 'query' }, description: 'Significance level; intervals are at 1 − alpha', example: 0.05 }),
})

const Projection = z.object({ expected: z.number(), low: z.number(), high: z.number(), rate: IntervalSchema })

export const ComparisonSchema = z
  .object({
    metric: z.enum(METRICS),
    definition: z.string(),
    alpha: z.number(),
    currency: z.string().nullable().optional().openapi({ description: 'revenue_per_recipient: the currency compared (null for the rates)' }),
    rows: z.array(
      z.object({
        key: z.string(),
        sent: z.number().int(),
        trials: z.number().int(),
        successes: z.number().int().nullable().openapi({ description: 'Null for revenue_per_recipient (not a proportion): `rate` is then the mean revenue per recipient' }),
        rate: IntervalSchema,
        exact: z.string().optional().openapi({ description: "revenue_per_recipient: revenue / sent from the exact sums, a decimal string in the currency's own decimals" }),
      }),
    ),
    differences: z.array(z.object({ key: z.string(), versus: z.string(), absolute: IntervalSchema, relative: IntervalSchema.nullable() })),
    test: z.object({
      name: z.enum(['two_proportion_z', 'chi_square', 'welch_z', 'none']),
      statistic: z.number().nullable(),
      df: z.number().int().nullable(),
      pValue: z.number().nullable(),
      significant: z.boolean(),
      winner: z.string().nullable(),
      reason: z.enum(['not_enough_data', 'no_single_winner', 'no_variation', 'single_group']).nullable(),
      neededPerGroup: z.number().int().nullable(),
    }),
    projection: z.object({ listSize: z.number().int(), rows: z.array(z.object({ key: z.string(), opens: Projection, clicks: Projection })) }).optional(),
  })
  .openapi('Comparison', {
    example: {
      metric: 'click_rate',
      definition: 'unique clickers / sent',
      alpha: 0.05,
      rows: [
        { key: 'A', sent: 5000, trials: 5000, successes: 240, rate: { value: 0.048, low: 0.0424, high: 0.0543 } },
        { key: 'B', sent: 5000, trials: 5000, successes: 310, rate: { value: 0.062, low: 0.0557, high: 0.069 } },
      ],
      differences: [{ key: 'B', versus: 'A', absolute: { value: 0.014, low: 0.0052, high: 0.0228 }, relative: { value: 0.2917, low: 0.0965, high: 0.5216 } }],
      test: { name: 'two_proportion_z', statistic: 3.11, df: 1, pValue: 0.0019, significant: true, winner: 'B', reason: null, neededPerGroup: null },
    },
  })

const TESTS_NOTE =
  'Conversion metrics (conversion_rate, clicker_conversion_rate, revenue_per_recipient) take `attributionWindow` and `attribution` and are computed as by /v1/campaigns/{id}/compare/conversions: rates with the tests below; revenue_per_recipient with a Welch z-test of the best group against the runner-up (Bonferroni-adjusted for k(k−1)/2 pairs), `exact` revenue strings beside the float statistics. Two groups: two-sided two-proportion z-test (pooled); more: Pearson chi-square of independence, and a winner only if the best group also beats the runner-up. `winner` is null unless significant at `alpha`. Fewer than 30 trials or 5 expected successes/failures in a group: `pValue` null, `reason` not_enough_data and `neededPerGroup` (sends per group for 80% power at the observed difference). `differences` are each row minus the first row (Newcombe hybrid score interval; relative: Katz log interval, null without successes).'

const acrossRoute = createRoute({
  method: 'get',
  path: '/v1/compare',
  operationId: 'compareCampaigns',
  tags: ['metrics'],
  summary: 'Campaigns side by side, with a significance test',
  description: `${TESTS_NOTE} ${UNIQUES_NOTE}`,
  security,
  request: {
    query: CompareQuery.extend({
      campaigns: z.string().openapi({ param: { name: 'campaigns', in: 'query' }, description: 'Comma-separated campaign ids, 2 to 20; the first is the reference', example: 'spring-a,spring-b' }),
    }),
  },
  responses: {
    200: { description: 'Comparison', content: { 'application/json': { schema: ComparisonSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

const variantRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/compare',
  operationId: 'compareVariants',
  tags: ['metrics'],
  summary: 'Variants of a campaign side by side (A/B test)',
  description: `Variants sorted by name, the first the reference; recipients without a variant are left out. With \`listSize\`, each variant's expected openers and clickers on a list of that size. ${TESTS_NOTE} ${UNIQUES_NOTE}`,
  security,
  request: {
    params: CampaignIdParam,
    query: CompareQuery.extend({
      by: z.enum(['variant']).default('variant').openapi({ param: { name: 'by', in: 'query' } }),
      listSize: z.coerce.number().int().min(1).max(1e10).optional().openapi({ param: { name: 'listSize', in: 'query' }, example: 250000 }),
    }),
  },
  responses: {
    200: { description: 'Comparison', content: { 'application/json': { schema: ComparisonSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

const projectionRoute = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/projection',
  operationId: 'getProjection',
  tags: ['metrics'],
  summary: 'Test send before the big send: expected opens and clicks on a full list',
  description:
    'From this (test) campaign: expected unique openers and clickers on a list of `listSize`, = listSize × the rate measured here; the interval is the 95% Wilson interval of the rate scaled to the list, widened by the list\'s own binomial spread (1.96·√(N·p·(1−p))).',
  security,
  request: {
    params: CampaignIdParam,
    query: WindowQuery.extend({ listSize: z.coerce.number().int().min(1).max(1e10).openapi({ param: { name: 'listSize', in: 'query' }, example: 250000 }) }),
  },
  responses: {
    200: {
      description: 'Projection',
      content: {
        'application/json': {
          schema: z
            .object({ campaignId: z.string(), listSize: z.number().int(), sent: z.number().int(), opens: Projection, clicks: Projection })
            .openapi('Projection', {
              example: {
                campaignId: 'spring-test',
                listSize: 250000,
                sent: 2000,
                opens: { expected: 78000, low: 71947, high: 84291, rate: { value: 0.312, low: 0.2921, high: 0.3326 } },
                clicks: { expected: 15250, low: 12773, high: 18184, rate: { value: 0.061, low: 0.0512, high: 0.0725 } },
              },
            }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

const isConversionMetric = (m: string): m is ConversionMetric => (CONVERSION_METRICS as readonly string[]).includes(m)


export function registerCompare(app: OpenAPIHono<AppEnv>) {
  app.openapi(acrossRoute, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const w = toWindow(q)
    const ids = [...new Set(q.campaigns.split(',').map((s) => s.trim()).filter(Boolean))]
    if (ids.length < 2 || ids.length > 20) throw new ApiError('validation_failed', `query.campaigns: give 2 to 20 distinct campaign ids, got ${ids.length}`)
    for (const id of ids) {
      if (!CAMPAIGN_ID_PATTERN.test(id)) throw new ApiError('validation_failed', `query.campaigns: invalid campaign id ${JSON.stringify(id.slice(0, 80))}`)
    }
    await getCampaigns(deps, ids)
    if (isConversionMetric(q.metric)) {
      const opts: AttributionOptions & { currency?: string | undefined } = { ...toAttribution(q), currency: q.currency }
      return c.json(await compareCampaignConversions(deps.events, ids, q.metric, q.alpha, opts), 200)
    }
    return c.json(await compareCampaigns(deps.events, ids, q.metric as CompareMetric, q.alpha, w), 200)
  })

  app.openapi(variantRoute, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    if (isConversionMetric(q.metric)) {
      if (q.listSize !== undefined) throw new ApiError('validation_failed', `query.listSize: projections are of open and click rates; not with metric=${q.metric}`)
      const opts = { ...toAttribution(q), currency: q.currency, dropEmptyKey: true }
      return c.json(await compareConversionsBy(deps.events, id, 'variant', q.metric, q.alpha, opts), 200)
    }
    return c.json(await compareVariants(deps.events, id, q.metric as CompareMetric, q.alpha, w, q.listSize), 200)
  })
  app.openapi(projectionRoute, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    return c.json(await projectCampaign(deps.events, id, q.listSize, w), 200)
  })
}
