import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { campaignStats } from '../../../metrics/campaign-stats.js'
import { getCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'

const Count = z.object({ total: z.number().int(), unique: z.number().int() })

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/stats',
  tags: ['metrics'],
  summary: 'Headline numbers of a campaign',
  security,
  request: { params: CampaignIdParam },
  responses: {
    200: {
      description: 'Stats',
      content: {
        'application/json': {
          schema: z.object({ campaignId: z.string(), sent: z.number().int(), opens: Count, clicks: Count }).openapi('CampaignStats'),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerCampaignStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    await getCampaign(deps, id)
    return c.json(await campaignStats(deps.events, id), 200)
  })
}
