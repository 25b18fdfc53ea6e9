import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { getCampaign, listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, LinkSchema, security } from '../../schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/links',
  operationId: 'listLinks',
  tags: ['links'],
  summary: "List a campaign's links",
  security,
  request: { params: CampaignIdParam },
  responses: {
    200: { description: 'Links', content: { 'application/json': { schema: z.object({ links: z.array(LinkSchema) }) } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerListLinks(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    await getCampaign(deps, id)
    return c.json({ links: await listLinks(deps, id) }, 200)
  })
}
