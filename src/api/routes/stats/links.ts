import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { linkStats } from '../../../metrics/link-stats.js'
import { getCampaign, listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/links/stats',
  tags: ['metrics'],
  summary: 'Clicks per link',
  security,
  request: { params: CampaignIdParam },
  responses: {
    200: {
      description: 'Per-link stats',
      content: {
        'application/json': {
          schema: z.object({
            links: z.array(
              z.object({ linkId: z.string(), url: z.string(), label: z.string(), position: z.number().int(), clicks: z.number().int(), uniqueClickers: z.number().int() }),
            ),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerLinkStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    await getCampaign(deps, id)
    return c.json({ links: await linkStats(deps.events, id, await listLinks(deps, id)) }, 200)
  })
}
