import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { campaignStats } from '../../../metrics/campaign-stats.js'
import { conversionBlock, conversionTotals } from '../../../metrics/conversion-summary.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { AttributionQuery, campaignWindow, toAttribution } from '../../../metrics/query.js'
import { ConversionBlockSchema, CONVERSIONS_NOTE } from '../conversions/schemas.js'
import { RateSchema, UNIQUES_NOTE } from './common.js'

const Delay = z.object({ count: z.number().int(), medianSeconds: z.number().nullable(), p90Seconds: z.number().nullable() })
const Machine = z.object({ total: z.number().int(), byReason: z.record(z.string(), z.number().int()) })

const CampaignStatsSchema = z
  .object({
    campaignId: z.string(),
    traffic: z.enum(['human', 'machine', 'all']),
    sent: z.number().int().openapi({ description: 'Rows of sends for the campaign (the denominator of every rate)' }),
    opens: z.object({ total: z.number().int(), unique: z.number().int(), rate: z.number() }),
    clicks: z.object({ total: z.number().int(), unique: z.number().int(), rate: z.number(), clickToOpenRate: z.number() }),
    unsubscribes: z.object({ total: z.number().int(), unique: z.number().int(), rate: z.number() }),
    rates: z.object({ open: RateSchema, click: RateSchema, clickToOpen: RateSchema, unsubscribe: RateSchema, conversion: RateSchema, clickerConversion: RateSchema }),
    firstEventAt: z.string().nullable(),
    lastEventAt: z.string().nullable(),
    timeToFirstOpen: Delay,
    timeToFirstClick: Delay,
    machine: z.object({ opens: Machine, clicks: Machine }).openapi({ description: 'Machine opens and clicks by reason, whatever `traffic` is' }),
    invalidToken: z.object({ opens: z.number().int(), clicks: z.number().int() }),
    conversions: ConversionBlockSchema,
  })
  .openapi('CampaignStats', {
    example: {
      campaignId: 'spring-sale',
      traffic: 'human',
      sent: 10000,
      opens: { total: 4210, unique: 3120, rate: 0.312 },
      clicks: { total: 980, unique: 610, rate: 0.061, clickToOpenRate: 0.1903 },
      unsubscribes: { total: 12, unique: 12, rate: 0.0012 },
      rates: {
        open: { value: 0.312, numerator: 3120, denominator: 10000, definition: 'unique openers / sent' },
        click: { value: 0.061, numerator: 610, denominator: 10000, definition: 'unique clickers / sent' },
        clickToOpen: { value: 0.1903, numerator: 610, denominator: 3205, definition: 'unique clickers / unique recipients who opened or clicked (a click proves the message was opened)' },
        unsubscribe: { value: 0.0012, numerator: 12, denominator: 10000, definition: 'unique unsubscribers / sent' },
        conversion: { value: 0.004, numerator: 40, denominator: 10000, definition: 'converters / sent' },
        clickerConversion: { value: 0.0656, numerator: 40, denominator: 610, definition: 'converters / unique clickers' },
      },
      firstEventAt: '2026-11-23T09:00:04.120Z',
      lastEventAt: '2026-11-29T21:13:00.002Z',
      timeToFirstOpen: { count: 3120, medianSeconds: 5400, p90Seconds: 86400 },
      timeToFirstClick: { count: 610, medianSeconds: 7200, p90Seconds: 100800 },
      machine: { opens: { total: 1900, byReason: { apple_mpp: 1850, gmail_prefetch: 50 } }, clicks: { total: 140, byReason: { scanner_ip: 120, head_request: 20 } } },
      invalidToken: { opens: 3, clicks: 1 },
      conversions: { total: 42, converters: 40, rate: 0.004, clickers: 610, clickerRate: 0.0656, revenue: { EUR: '2100.00' }, revenuePerRecipient: { EUR: '0.21' }, averageOrderValue: { EUR: '50.00' } },
    },
  })

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/stats',
  operationId: 'getCampaignStats',
  tags: ['metrics'],
  summary: 'Headline numbers of a campaign',
  description: `Sent, opens, clicks, unsubscribes, rates with their numerator and denominator, first and last event, median and p90 time from send to first open and first click (per recipient, min(event time) − sent_at). ${UNIQUES_NOTE} \`from\`/\`to\` bound the events, not the sends. ${CONVERSIONS_NOTE}`,
  security,
  request: { params: CampaignIdParam, query: AttributionQuery },
  responses: {
    200: { description: 'Stats', content: { 'application/json': { schema: CampaignStatsSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerCampaignStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    const [stats, conv] = await Promise.all([campaignStats(deps.events, id, w), conversionTotals(deps.events, id, toAttribution(q))])
    const conversions = conversionBlock(conv, stats.sent, stats.clicks.unique)
    const rate = (numerator: number, denominator: number, definition: string) => ({ value: denominator > 0 ? numerator / denominator : 0, numerator, denominator, definition })
    return c.json(
      {
        ...stats,
        rates: {
          ...stats.rates,
          conversion: rate(conversions.converters, stats.sent, 'converters / sent'),
          clickerConversion: rate(conversions.converters, stats.clicks.unique, 'converters / unique clickers'),
        },
        conversions,
      },
      200,
    )
  })
}
