import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { createCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdSchema, CampaignSchema, CampaignSettingsInputSchema, CampaignTrackingSchema, jsonBody, security, storedSettings, toCampaign } from '../../schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/campaigns',
  operationId: 'createCampaign',
  tags: ['campaigns'],
  summary: 'Create a campaign',
  security,
  request: {
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(500).openapi({ example: 'Spring sale 2026' }),
          id: CampaignIdSchema.optional().openapi({ example: 'spring-sale' }),
          settings: CampaignSettingsInputSchema.optional(),
          tracking: CampaignTrackingSchema.optional(),
        })
        .strict(),
    ),
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: CampaignSchema } } },
    ...errorResponses(400, 401, 409, 415),
  },
})

export function registerCreateCampaign(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { tracking, ...input } = c.req.valid('json')
    const campaign = await createCampaign(c.get('deps'), { ...input, settings: storedSettings(input.settings, tracking) })
    return c.json(toCampaign(campaign), 201)
  })
}
