import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import { trackingToSettings } from '../../../conversions/click-id.js'
import { campaigns } from '../../../store/schema.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CampaignIdParam, CampaignSchema, CampaignSettingsSchema, CampaignTrackingSchema, jsonBody, security, toCampaign } from '../../schemas.js'

const route = createRoute({
  method: 'patch',
  path: '/v1/campaigns/{id}',
  tags: ['campaigns'],
  summary: 'Change a campaign: name, settings, redirect decoration',
  description:
    'settings keys given replace the stored ones (others are kept); tracking {clickIdParam, utm} is the short form of settings.clickId and settings.utm. ' +
    'Redirects of this instance use the new decoration at once.',
  security,
  request: {
    params: CampaignIdParam,
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(500).optional(),
          settings: CampaignSettingsSchema.optional(),
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
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const [current] = await deps.meta.db.select().from(campaigns).where(eq(campaigns.id, id)).limit(1)
    if (!current) throw new ApiError('not_found', `campaign ${id} not found`)
    const settings = { ...current.settings, ...body.settings, ...trackingToSettings(body.tracking) }
    const [row] = await deps.meta.db
      .update(campaigns)
      .set({ settings, ...(body.name !== undefined ? { name: body.name } : {}) })
      .where(eq(campaigns.id, id))
      .returning()
    deps.links.addCampaign({ id, settings: row!.settings })
    return c.json(toCampaign(row!), 200)
  })
}
