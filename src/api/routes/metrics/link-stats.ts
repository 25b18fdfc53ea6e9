import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { linkStats } from '../../../metrics/link-stats.js'
import { getCampaign, listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { toWindow, UNIQUES_NOTE, WindowQuery } from './common.js'

const figures = {
  clicks: z.number().int(),
  uniqueClickers: z.number().int(),
  shareOfRecipients: z.number().openapi({ description: 'uniqueClickers / sent' }),
  shareOfClickers: z.number().openapi({ description: 'uniqueClickers / unique clickers of any link' }),
  openersNotClicked: z.number().int().openapi({ description: 'Unique openers who did not click this link' }),
  shareOfOpenersNotClicked: z.number().openapi({ description: 'openersNotClicked / unique openers' }),
}

const LinkStatsSchema = z
  .object({
    campaignId: z.string(),
    traffic: z.enum(['human', 'machine', 'all']),
    sent: z.number().int(),
    uniqueOpeners: z.number().int(),
    uniqueClickers: z.number().int(),
    links: z.array(z.object({ linkId: z.string(), url: z.string(), label: z.string(), position: z.number().int(), ...figures })),
    byUrl: z.array(z.object({ url: z.string(), linkIds: z.array(z.string()), ...figures })),
  })
  .openapi('LinkStats', {
    example: {
      campaignId: 'spring-sale',
      traffic: 'human',
      sent: 10000,
      uniqueOpeners: 3120,
      uniqueClickers: 610,
      links: [
        { linkId: 'x7Kq2mB9aP0z', url: 'https://shop.example/spring', label: 'Hero button', position: 0, clicks: 700, uniqueClickers: 450, shareOfRecipients: 0.045, shareOfClickers: 0.7377, openersNotClicked: 2700, shareOfOpenersNotClicked: 0.8654 },
      ],
      byUrl: [
        { url: 'https://shop.example/spring', linkIds: ['x7Kq2mB9aP0z'], clicks: 700, uniqueClickers: 450, shareOfRecipients: 0.045, shareOfClickers: 0.7377, openersNotClicked: 2700, shareOfOpenersNotClicked: 0.8654 },
      ],
    },
  })

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/links/stats',
  tags: ['metrics'],
  summary: 'Clicks per link and per destination URL',
  description: `Each registered link (a position in the e-mail) with clicks, unique clickers, share of recipients, share of clickers and the openers who did not click it; \`byUrl\` aggregates links with the same destination (uniques exact across them). ${UNIQUES_NOTE}`,
  security,
  request: { params: CampaignIdParam, query: WindowQuery },
  responses: {
    200: { description: 'Per-link stats', content: { 'application/json': { schema: LinkStatsSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerLinkStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const w = toWindow(c.req.valid('query'))
    await getCampaign(deps, id)
    return c.json(await linkStats(deps.events, id, await listLinks(deps, id), w), 200)
  })
}
