import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listCampaigns } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignSchema, Pagination, security, toCampaign } from '../../schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  tags: ['campaigns'],
  summary: 'List campaigns, oldest first',
  security,
  request: { query: Pagination },
  responses: {
    200: { description: 'Campaigns', content: { 'application/json': { schema: z.object({ campaigns: z.array(CampaignSchema) }) } } },
    ...errorResponses(400, 401),
  },
})

export function registerListCampaigns(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const rows = await listCampaigns(c.get('deps'), c.req.valid('query'))
    return c.json({ campaigns: rows.map(toCampaign) }, 200)
  })
}
