import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { countCampaigns, listCampaigns } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignSchema, PageInfo, pageInfo, Pagination, security, toCampaign } from '../../schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  operationId: 'listCampaigns',
  tags: ['campaigns'],
  summary: 'List campaigns, oldest first',
  description: 'Paged by limit and offset; `next` is the offset of the following page, null on the last one.',
  security,
  request: { query: Pagination },
  responses: {
    200: { description: 'Campaigns', content: { 'application/json': { schema: z.object({ campaigns: z.array(CampaignSchema), ...PageInfo }) } } },
    ...errorResponses(400, 401),
  },
})

export function registerListCampaigns(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const [rows, total] = await Promise.all([listCampaigns(deps, q), countCampaigns(deps)])
    return c.json({ campaigns: rows.map(toCampaign), ...pageInfo(q, total) }, 200)
  })
}
