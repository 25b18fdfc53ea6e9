import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { createApiKey, toApiKeyResponse } from '../../../services/api-keys.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { ADMIN_ONLY, ApiKeyRoleSchema, ApiKeySchema } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  operationId: 'createApiKey',
  tags: ['api-keys'],
  summary: 'Create an API key (shown once; stored hashed)',
  description: ADMIN_ONLY,
  security,
  request: {
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(200).openapi({ example: 'dashboard' }),
          role: ApiKeyRoleSchema.default('member'),
        })
        .strict(),
    ),
  },
  responses: {
    201: {
      description: 'Created; `key` is never shown again',
      content: { 'application/json': { schema: ApiKeySchema.extend({ key: z.string().openapi({ example: 'sk_3q0V…' }) }) } },
    },
    ...errorResponses(400, 401, 403, 415),
  },
})

export function registerCreateApiKey(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const body = c.req.valid('json')
    const k = await createApiKey(deps, body.name, body.role)
    deps.log.info('api_key_created', { id: k.id, role: k.role, apiKeyId: c.get('apiKeyId'), requestId: c.get('requestId') })
    return c.json({ ...toApiKeyResponse(k), key: k.key }, 201)
  })
}
