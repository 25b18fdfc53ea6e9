import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { getCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, CampaignSchema, security, toCampaign } from '../../schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}',
  operationId: 'getCampaign',
  tags: ['campaigns'],
  summary: 'Get a campaign',
  security,
  request: { params: CampaignIdParam },
  responses: {
    200: { description: 'The campaign', content: { 'application/json': { schema: CampaignSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerGetCampaign(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const campaign = await getCampaign(c.get('deps'), c.req.valid('param').id)
    return c.json(toCampaign(campaign), 200)
  })
}
