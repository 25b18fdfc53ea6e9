import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { attributedOrders, groupOrders } from '../../../metrics/attributed-orders.js'
import { conversionBlock } from '../../../metrics/conversion-summary.js'
import { linkStats } from '../../../metrics/link-stats.js'
import { listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { AttributionQuery, campaignWindow, toAttribution } from '../../../metrics/query.js'
import { ConversionBlockSchema, CONVERSIONS_NOTE } from '../conversions/schemas.js'
import { UNIQUES_NOTE } from './common.js'

const figures = {
  clicks: z.number().int(),
  uniqueClickers: z.number().int(),
  shareOfRecipients: z.number().openapi({ description: 'uniqueClickers / sent' }),
  shareOfClickers: z.number().openapi({ description: 'uniqueClickers / unique clickers of any link' }),
  openersNotClicked: z.number().int().openapi({ description: 'Unique openers who did not click this link' }),
  shareOfOpenersNotClicked: z.number().openapi({ description: 'openersNotClicked / unique openers' }),
  conversions: ConversionBlockSchema.openapi({ description: "Orders attributed to this link (a recipient-only order: the recipient's last clicked link); clickers = the link's unique clickers" }),
}

const LinkStatsSchema = z
  .object({
    campaignId: z.string(),
    traffic: z.enum(['human', 'machine', 'all']),
    sent: z.number().int(),
    uniqueOpeners: z.number().int(),
    uniqueClickers: z.number().int(),
    links: z.array(
      z.object({
        linkId: z.string(),
        url: z.string().openapi({ description: 'Where it leads now' }),
        label: z.string(),
        position: z.number().int(),
        version: z.number().int().openapi({ description: '0: never changed (else GET …/links/:linkId/history)' }),
        disabled: z.boolean(),
        ...figures,
      }),
    ),
    byUrl: z.array(
      z.object({
        url: z.string().openapi({ description: "Where the clicks went (a changed link's clicks count under the URL of their time); '' is the \"offer ended\" page" }),
        linkIds: z.array(z.string()),
        ...figures,
      }),
    ),
  })
  .openapi('LinkStats', {
    example: {
      campaignId: 'spring-sale',
      traffic: 'human',
      sent: 10000,
      uniqueOpeners: 3120,
      uniqueClickers: 610,
      links: [
        { linkId: 'x7Kq2mB9aP0z', url: 'https://shop.example/spring', label: 'Hero button', position: 1, version: 0, disabled: false, clicks: 700, uniqueClickers: 450, shareOfRecipients: 0.045, shareOfClickers: 0.7377, openersNotClicked: 2700, shareOfOpenersNotClicked: 0.8654, conversions: { total: 30, converters: 29, rate: 0.0029, clickers: 450, clickerRate: 0.0644, revenue: { EUR: '1500.00' }, revenuePerRecipient: { EUR: '0.15' }, averageOrderValue: { EUR: '50.00' } } },
      ],
      byUrl: [
        { url: 'https://shop.example/spring', linkIds: ['x7Kq2mB9aP0z'], clicks: 700, uniqueClickers: 450, shareOfRecipients: 0.045, shareOfClickers: 0.7377, openersNotClicked: 2700, shareOfOpenersNotClicked: 0.8654, conversions: { total: 30, converters: 29, rate: 0.0029, clickers: 450, clickerRate: 0.0644, revenue: { EUR: '1500.00' }, revenuePerRecipient: { EUR: '0.15' }, averageOrderValue: { EUR: '50.00' } } },
      ],
    },
  })

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/links/stats',
  operationId: 'getLinkStats',
  tags: ['metrics'],
  summary: 'Clicks per link and per destination URL',
  description: `Each registered link (a position in the e-mail) with clicks, unique clickers, share of recipients, share of clickers and the openers who did not click it; \`byUrl\` aggregates links with the same destination (uniques exact across them). ${UNIQUES_NOTE} ${CONVERSIONS_NOTE}`,
  security,
  request: { params: CampaignIdParam, query: AttributionQuery },
  responses: {
    200: { description: 'Per-link stats', content: { 'application/json': { schema: LinkStatsSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerLinkStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    const links = await listLinks(deps, id)
    const [stats, orders] = await Promise.all([linkStats(deps.events, id, links, w), attributedOrders(deps.events, id, toAttribution(q))])
    const urlOf = new Map(links.map((l) => [l.id, l.url]))
    const byLink = groupOrders(orders, (o) => (o.linkId ? [o.linkId] : []))
    // Per URL the converters are distinct across its links, so group the orders again rather than add the links up.
    const byUrl = groupOrders(orders, (o) => {
      const url = urlOf.get(o.linkId)
      return url === undefined ? [] : [url]
    })
    return c.json(
      {
        ...stats,
        links: stats.links.map((l) => ({ ...l, conversions: conversionBlock(byLink.get(l.linkId), stats.sent, l.uniqueClickers) })),
        byUrl: stats.byUrl.map((u) => ({ ...u, conversions: conversionBlock(byUrl.get(u.url), stats.sent, u.uniqueClickers) })),
      },
      200,
    )
  })
}
