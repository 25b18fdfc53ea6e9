import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { updateCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, CampaignSchema, CampaignSettingsInputSchema, CampaignTrackingSchema, jsonBody, security, storedSettings, toCampaign } from '../../schemas.js'

const route = createRoute({
  method: 'patch',
  path: '/v1/campaigns/{id}',
  operationId: 'updateCampaign',
  tags: ['campaigns'],
  summary: 'Change a campaign: name, settings, redirect decoration',
  description:
    'settings keys given replace the stored ones (others are kept); tracking {clickIdParam, utm} is the short form of settings.clickId and settings.utm. ' +
    'Redirects of this instance use the new decoration at once, those of other instances sharing its database within LINK_REFRESH_MS (5 s by default).',
  security,
  request: {
    params: CampaignIdParam,
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(500).optional(),
          settings: CampaignSettingsInputSchema.optional(),
          tracking: CampaignTrackingSchema.optional(),
        })
        .strict()
        .openapi({ example: { tracking: { clickIdParam: 'sl_cid', utm: true } } }),
    ),
  },
  responses: {
    200: { description: 'The campaign', content: { 'application/json': { schema: CampaignSchema } } },
    ...errorResponses(400, 401, 404, 415),
  },
})

export function registerUpdateCampaign(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json')
    const campaign = await updateCampaign(c.get('deps'), c.req.valid('param').id, { name: body.name, settings: storedSettings(body.settings, body.tracking) ?? {} })
    return c.json(toCampaign(campaign), 200)
  })
}
