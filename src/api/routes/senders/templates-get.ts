import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { getTemplate, toTemplateResponse } from '../../../services/templates.js'
import { getCampaign } from '../../../services/campaigns.js'
import { trackingBaseUrl } from '../../../services/domains.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { TemplateSchema } from './template-schema.js'

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/templates/{templateId}',
  operationId: 'getTemplate',
  tags: ['senders'],
  summary: 'A compiled template, its links and skipped hrefs (input of the SDK renderer)',
  security,
  request: {
    params: CampaignIdParam.extend({
      templateId: z.string().min(1).max(64).openapi({ param: { name: 'templateId', in: 'path' } }),
    }),
  },
  responses: {
    200: { description: 'The template', content: { 'application/json': { schema: TemplateSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerGetTemplate(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id, templateId } = c.req.valid('param')
    const [t, campaign] = await Promise.all([getTemplate(deps, id, templateId), getCampaign(deps, id)])
    return c.json(toTemplateResponse(await trackingBaseUrl(deps, campaign.settings), t) as never, 200)
  })
}
