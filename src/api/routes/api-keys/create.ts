import { randomBytes } from 'node:crypto'
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { nanoid } from 'nanoid'
import { apiKeys } from '../../../store/schema.js'
import { hashKey } from '../../auth.js'
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
    const { meta } = c.get('deps')
    const key = 'sk_' + randomBytes(24).toString('base64url')
    const [row] = await meta.db
      .insert(apiKeys)
      .values({ id: nanoid(12), name: c.req.valid('json').name, hash: hashKey(key), prefix: key.slice(0, 7) })
      .returning()
    return c.json({ id: row!.id, name: row!.name, key, prefix: row!.prefix, createdAt: row!.createdAt.toISOString() }, 201)
  })
}
