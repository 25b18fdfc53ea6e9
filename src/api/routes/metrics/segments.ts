import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { attributedOrders } from '../../../metrics/attributed-orders.js'
import { parseDimension } from '../../../metrics/facts.js'
import { segmentStats, withConversions } from '../../../metrics/segments.js'
import { getCampaign, listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { AttributionQuery, toAttribution, toWindow } from '../../../metrics/query.js'
import { ConversionBlockSchema, CONVERSIONS_NOTE } from '../conversions/schemas.js'
import { IntervalSchema, UNIQUES_NOTE } from './common.js'

const Query = AttributionQuery.extend({
  by: z.string().default('segment').openapi({ param: { name: 'by', in: 'query' }, description: 'segment | variant | attribute:NAME', example: 'attribute:country' }),
  linkId: z.string().max(64).optional().openapi({ param: { name: 'linkId', in: 'query' }, description: 'Count clicks on this link only' }),
})

const SegmentsSchema = z
  .object({
    campaignId: z.string(),
    by: z.string(),
    linkId: z.string().nullable(),
    rows: z.array(
      z.object({
        key: z.string(),
        sent: z.number().int(),
        uniqueOpeners: z.number().int(),
        uniqueClickers: z.number().int(),
        engaged: z.number().int(),
        openRate: IntervalSchema,
        clickRate: IntervalSchema,
        clickToOpenRate: IntervalSchema,
        conversionRate: IntervalSchema.openapi({ description: 'converters / sent, 95% Wilson interval' }),
        conversions: ConversionBlockSchema,
      }),
    ),
  })
  .openapi('Segments', {
    example: {
      campaignId: 'spring-sale',
      by: 'segment',
      linkId: null,
      rows: [
        { key: 'vip', sent: 1000, uniqueOpeners: 420, uniqueClickers: 90, engaged: 430, openRate: { value: 0.42, low: 0.3897, high: 0.4509 }, clickRate: { value: 0.09, low: 0.0738, high: 0.1093 }, clickToOpenRate: { value: 0.2093, low: 0.1737, high: 0.25 }, conversionRate: { value: 0.012, low: 0.0069, high: 0.0208 }, conversions: { total: 13, converters: 12, rate: 0.012, clickers: 90, clickerRate: 0.1333, revenue: { EUR: '650.00' }, revenuePerRecipient: { EUR: '0.65' }, averageOrderValue: { EUR: '50.00' } } },
      ],
    },
  })

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/segments',
  operationId: 'getSegments',
  tags: ['metrics'],
  summary: 'Rates per segment, variant or attribute value',
  description: `Counted from the sends (recipients who did nothing count in \`sent\`): a recipient in several segments counts in each; recipients without segments appear in no row; by attribute, recipients without it are under key "". Rates with 95% Wilson intervals: openRate = openers/sent, clickRate = clickers/sent, clickToOpenRate = clickers/engaged (opened or clicked); conversionRate = converters/sent. ${UNIQUES_NOTE} ${CONVERSIONS_NOTE} Conversions count in the row of the converter's send (none for a converter the campaign was not sent to); with \`linkId\`, only orders attributed to that link, and clickers are that link's.`,
  security,
  request: { params: CampaignIdParam, query: Query },
  responses: {
    200: { description: 'Rows per key', content: { 'application/json': { schema: SegmentsSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerSegments(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = toWindow(q)
    const d = parseDimension(q.by)
    if (!d) throw new ApiError('validation_failed', `query.by: unknown dimension ${JSON.stringify(q.by.slice(0, 100))}; use segment, variant or attribute:NAME`)
    await getCampaign(deps, id)
    if (q.linkId !== undefined && !(await listLinks(deps, id)).some((l) => l.id === q.linkId)) {
      throw new ApiError('validation_failed', `query.linkId: no link ${q.linkId} in campaign ${id}`)
    }
    const [rows, orders] = await Promise.all([
      segmentStats(deps.events, id, d, w, q.linkId),
      attributedOrders(deps.events, id, toAttribution(q), d.kind === 'attribute' ? d.name : undefined),
    ])
    return c.json({ campaignId: id, by: q.by, linkId: q.linkId ?? null, rows: withConversions(rows, orders, d, q.linkId) }, 200)
  })
}
