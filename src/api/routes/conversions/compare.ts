import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { divDecimal } from '../../../conversions/money.js'
import { conversionsByDimension, denominators, revenueMoments } from '../../../metrics/conversions.js'
import { compareProportions, differenceInterval, normalCdf, normalQuantile, relativeDifferenceInterval, wilson, MIN_GROUP_N } from '../../../metrics/statistics.js'
import { getCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { AttributionQuery, toAttribution } from './query.js'
import { CurrencySchema } from './schemas.js'

const Query = AttributionQuery.extend({
  by: z.enum(['variant', 'segment']).default('variant').openapi({ param: { name: 'by', in: 'query' } }),
  metric: z.enum(['conversion_rate', 'clicker_conversion_rate', 'revenue_per_recipient']).default('conversion_rate').openapi({ param: { name: 'metric', in: 'query' } }),
  currency: CurrencySchema.optional().openapi({ param: { name: 'currency', in: 'query' }, description: 'Currency of revenue_per_recipient (default: the one with most revenue rows)' }),
  alpha: z.coerce.number().gt(0).lt(0.5).default(0.05).openapi({ param: { name: 'alpha', in: 'query' }, example: 0.05 }),
})

const Interval = z.object({ value: z.number(), low: z.number(), high: z.number() })

const DEFINITIONS = {
  conversion_rate: 'converters / sent',
  clicker_conversion_rate: 'converters / unique clickers',
  revenue_per_recipient: 'revenue in the currency / sent (recipients without an order count as 0)',
} as const

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/compare/conversions',
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
          schema: z.object({
            metric: z.string(),
            definition: z.string(),
            alpha: z.number(),
            currency: z.string().nullable(),
            rows: z.array(z.object({ key: z.string(), sent: z.number().int(), trials: z.number().int(), successes: z.number().int().nullable(), rate: Interval, exact: z.string().optional() })),
            differences: z.array(z.object({ key: z.string(), versus: z.string(), absolute: Interval, relative: Interval.nullable() })),
            test: z.object({ name: z.string(), statistic: z.number().nullable(), pValue: z.number().nullable(), significant: z.boolean(), winner: z.string().nullable(), reason: z.string().nullable() }),
          }),
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
    const opts = toAttribution(q)
    const confidence = 1 - q.alpha
    const [groups, dens] = await Promise.all([conversionsByDimension(deps.events, id, q.by, opts), denominators(deps.events, id, q.by, opts.traffic)])
    dens.sort((a, b) => a.key.localeCompare(b.key))
    if (q.metric !== 'revenue_per_recipient') {
      const rows = dens.map((d) => {
        const trials = q.metric === 'conversion_rate' ? d.sent : d.clickers
        const successes = Math.min(groups.get(d.key)?.converters ?? 0, trials)
        return { key: d.key, sent: d.sent, trials, successes, rate: wilson(successes, trials, confidence) }
      })
      const first = rows[0]
      const test = compareProportions(rows.map((r) => ({ key: r.key, successes: r.successes, n: r.trials })), q.alpha)
      return c.json({
        metric: q.metric,
        definition: DEFINITIONS[q.metric],
        alpha: q.alpha,
        currency: null,
        rows,
        differences: first
          ? rows.slice(1).map((r) => ({
              key: r.key,
              versus: first.key,
              absolute: differenceInterval(r.successes, r.trials, first.successes, first.trials, confidence),
              relative: relativeDifferenceInterval(r.successes, r.trials, first.successes, first.trials, confidence),
            }))
          : [],
        test: { name: test.name, statistic: test.statistic, pValue: test.pValue, significant: test.significant, winner: test.winner, reason: test.reason },
      }, 200)
    }
    const currencies = new Map<string, number>()
    for (const g of groups.values()) for (const [cur, n] of Object.entries(g.orders)) currencies.set(cur, (currencies.get(cur) ?? 0) + n)
    const currency = q.currency ?? [...currencies.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null
    if (!currency) throw new ApiError('validation_failed', 'query.currency: no revenue recorded for this campaign; name a currency')
    const moments = new Map((await revenueMoments(deps.events, id, q.by, currency, opts)).map((m) => [m.key, m]))
    const z = normalQuantile(1 - q.alpha / 2)
    const stats = dens.map((d) => {
      const m = moments.get(d.key) ?? { n: d.sent, sum: 0, sumSquares: 0 }
      const n = d.sent
      const mean = n > 0 ? m.sum / n : 0
      const variance = n > 1 ? Math.max(0, (m.sumSquares - n * mean * mean) / (n - 1)) : 0
      return { key: d.key, n, mean, variance, exact: groups.get(d.key)?.revenue[currency] }
    })
    const rows = stats.map((s) => {
      const half = s.n > 0 ? z * Math.sqrt(s.variance / s.n) : 0
      const exact = divDecimal(s.exact ?? '0', s.n)
      return { key: s.key, sent: s.n, trials: s.n, successes: null, rate: { value: s.mean, low: s.mean - half, high: s.mean + half }, exact }
    })
    const welch = (a: (typeof stats)[number], b: (typeof stats)[number]) => {
      const se = Math.sqrt(a.variance / a.n + b.variance / b.n)
      const stat = se > 0 ? (a.mean - b.mean) / se : 0
      return { se, stat, p: se > 0 ? 2 * (1 - normalCdf(Math.abs(stat))) : 1 }
    }
    const first = stats[0]
    const differences = first
      ? stats.slice(1).map((s) => {
          const w = welch(s, first)
          const d = s.mean - first.mean
          return { key: s.key, versus: first.key, absolute: { value: d, low: d - z * w.se, high: d + z * w.se }, relative: null }
        })
      : []
    let test: { name: string; statistic: number | null; pValue: number | null; significant: boolean; winner: string | null; reason: string | null }
    if (stats.length < 2) test = { name: 'none', statistic: null, pValue: null, significant: false, winner: null, reason: 'single_group' }
    else if (stats.some((s) => s.n < MIN_GROUP_N)) test = { name: 'welch_z', statistic: null, pValue: null, significant: false, winner: null, reason: 'not_enough_data' }
    else {
      const [best, second] = [...stats].sort((a, b) => b.mean - a.mean) as [(typeof stats)[number], (typeof stats)[number]]
      const w = welch(best, second)
      const k = stats.length
      const p = Math.min(1, w.p * ((k * (k - 1)) / 2))
      const significant = p < q.alpha
      test = { name: 'welch_z', statistic: w.stat, pValue: p, significant, winner: significant ? best.key : null, reason: w.se === 0 ? 'no_variation' : null }
    }
    return c.json({ metric: q.metric, definition: DEFINITIONS[q.metric], alpha: q.alpha, currency, rows, differences, test }, 200)
  })
}
