import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { campaignConversions } from '../../../metrics/campaign-conversions.js'
import { getCampaign, listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { AttributionQuery, toAttribution } from '../../../metrics/query.js'

const Rate = (num: string, den: string) =>
  z.object({ value: z.number(), low: z.number(), high: z.number(), numerator: z.literal(num), denominator: z.literal(den) })

const Revenue = z.record(z.string(), z.string()).openapi({ example: { EUR: '1234.50' }, description: "Per currency, decimal strings in the currency's own decimals (EUR 2, JPY 0)" })

export const ConversionRowSchema = z
  .object({
    key: z.string(),
    sent: z.number().int(),
    clickers: z.number().int(),
    conversions: z.number().int(),
    converters: z.number().int(),
    conversionRate: Rate('converters', 'sent'),
    clickerConversionRate: Rate('converters', 'clickers'),
    revenue: Revenue,
    revenuePerRecipient: Revenue,
    averageOrderValue: Revenue,
  })
  .openapi('ConversionRow')

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/conversions',
  operationId: 'getCampaignConversions',
  tags: ['conversions'],
  summary: 'Conversions and revenue of a campaign: totals, by link, by variant, by segment',
  description:
    'Rates state numerator and denominator, with 95% Wilson intervals. Revenue is per currency (never summed across currencies), exact. ' +
    'Revenue per recipient = revenue / sent; average order value = revenue / orders in that currency. ' +
    "Amounts are computed on the exact sums and shown in each currency's own decimals (EUR \"60.00\", JPY \"1000\"), rounded half up.",
  security,
  request: { params: CampaignIdParam, query: AttributionQuery },
  responses: {
    200: {
      description: 'Conversion figures',
      content: {
        'application/json': {
          schema: z.object({
            campaignId: z.string(),
            attribution: z.object({ model: z.enum(['click', 'open']), windowDays: z.number(), method: z.string() }),
            totals: ConversionRowSchema,
            byLink: z.array(ConversionRowSchema.extend({ linkId: z.string() })),
            byVariant: z.array(ConversionRowSchema),
            bySegment: z.array(ConversionRowSchema),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerCampaignConversions(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    await getCampaign(deps, id)
    const links = await listLinks(deps, id)
    const result = await campaignConversions(deps.events, id, links.map((l) => l.id), toAttribution(c.req.valid('query')))
    return c.json(result, 200)
  })
}
