import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { createApiKey } from '../../../services/api-keys.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  tags: ['api-keys'],
  summary: 'Create an API key (shown once; stored hashed)',
  security,
  request: {
    body: jsonBody(z.object({ name: z.string().trim().min(1).max(200).openapi({ example: 'dashboard' }) }).strict()),
  },
  responses: {
    201: {
      description: 'Created; `key` is never shown again',
      content: {
        'application/json': {
          schema: z.object({ id: z.string(), name: z.string(), key: z.string().openapi({ example: 'sk_3q0V…' }), prefix: z.string(), createdAt: z.string() }),
        },
      },
    },
    ...errorResponses(400, 401, 415),
  },
})

export function registerCreateApiKey(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const k = await createApiKey(c.get('deps'), c.req.valid('json').name)
    return c.json({ id: k.id, name: k.name, key: k.key, prefix: k.prefix, createdAt: k.createdAt.toISOString() }, 201)
  })
}
