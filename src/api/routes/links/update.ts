import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { updateLink } from '../../../services/links.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, LinkIdParam, LinkSchema, security } from '../../schemas.js'

const Url = z.string().min(1).max(8192)

const route = createRoute({
  method: 'patch',
  path: '/v1/campaigns/{id}/links/{linkId}',
  operationId: 'updateLink',
  tags: ['links'],
  summary: 'Change where a sent link leads, or retire it',
  description:
    'url: readers go there from now on (an absolute http(s) URL, as at creation). disabled: true retires the link: clicks are still recorded and ' +
    "readers go to fallbackUrl, else the campaign's fallbackUrl setting, else an \"offer ended\" page (410); false brings it back. Every instance " +
    'follows within LINK_REFRESH_MS (this one at once). Each change is kept: GET …/history. Clicks count in byUrl under the URL they went to.',
  security,
  request: {
    params: LinkIdParam,
    body: jsonBody(
      z
        .object({
          url: Url.optional().openapi({ example: 'https://shop.example/spring-fixed' }),
          disabled: z.boolean().optional(),
          fallbackUrl: Url.nullable().optional().openapi({ example: 'https://shop.example/' }),
        })
        .strict()
        .refine((b) => b.url !== undefined || b.disabled !== undefined || b.fallbackUrl !== undefined, { message: 'give url, disabled or fallbackUrl' }),
    ),
  },
  responses: {
    200: { description: 'The link as it is now', content: { 'application/json': { schema: LinkSchema } } },
    ...errorResponses(400, 401, 404, 409, 415),
  },
})

export function registerUpdateLink(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { id, linkId } = c.req.valid('param')
    return c.json(await updateLink(c.get('deps'), id, linkId, c.req.valid('json'), c.get('apiKeyId')), 200)
  })
}
