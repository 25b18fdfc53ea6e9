import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { linkHistory } from '../../../services/links.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { LinkIdParam, LinkSchema, security } from '../../schemas.js'

const ChangeSchema = z
  .object({
    version: z.number().int().openapi({ description: "The link's version after the change" }),
    at: z.string().openapi({ example: '2026-12-05T09:00:00.000Z' }),
    apiKeyId: z.string().openapi({ description: "The API key that made it ('admin': TRACKER_ADMIN_KEY)" }),
    oldUrl: z.string(),
    newUrl: z.string(),
    disabled: z.boolean(),
    fallbackUrl: z.string().nullable(),
  })
  .openapi('LinkChange')

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/links/{linkId}/history',
  operationId: 'getLinkHistory',
  tags: ['links'],
  summary: "A link's changes, oldest first",
  security,
  request: { params: LinkIdParam },
  responses: {
    200: { description: 'The link and its changes', content: { 'application/json': { schema: z.object({ link: LinkSchema, changes: z.array(ChangeSchema) }) } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerLinkHistory(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { id, linkId } = c.req.valid('param')
    const { link, changes } = await linkHistory(c.get('deps'), id, linkId)
    return c.json({ link, changes: changes.map((ch) => ({ ...ch, at: ch.at.toISOString() })) }, 200)
  })
}
