import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { getCampaign, upsertLink } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, jsonBody, LinkSchema, security } from '../../schemas.js'
import { HONEYPOT_LABEL } from '../../../services/templates.js'

const route = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/links',
  operationId: 'createLink',
  tags: ['links'],
  summary: 'Register a link (the same url and label again returns the same link)',
  security,
  request: {
    params: CampaignIdParam,
    body: jsonBody(
      z
        .object({
          url: z.string().min(1).max(8192).openapi({ example: 'https://shop.example/spring?ref=mail' }),
          label: z
            .string()
            .max(500)
            .refine((l) => l !== HONEYPOT_LABEL, { message: `${HONEYPOT_LABEL} is reserved for the honeypot link a template inserts` })
            .optional()
            .openapi({ example: 'Hero button' }),
        })
        .strict(),
    ),
  },
  responses: {
    200: { description: 'The link already existed', content: { 'application/json': { schema: LinkSchema } } },
    201: { description: 'Created', content: { 'application/json': { schema: LinkSchema } } },
    ...errorResponses(400, 401, 404, 415),
  },
})

export function registerCreateLink(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    await getCampaign(deps, id)
    const { link, created } = await upsertLink(deps, id, c.req.valid('json'))
    return created ? c.json(link, 201) : c.json(link, 200)
  })
}
