import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { revokeApiKey, toApiKeyResponse } from '../../../services/api-keys.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { ApiKeySchema, security } from '../../schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  tags: ['api-keys'],
  summary: 'Revoke an API key',
  description:
    'The key is refused from the next request on this instance (other instances: within 30 s, their cache time) and its dashboard sessions end. ' +
    'The key stays listed, marked revoked; revoking it again answers the same. The bootstrap admin key (TRACKER_ADMIN_KEY) is not an API key and cannot be revoked here.',
  security,
  request: { params: z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'k3Xq9mB2aP0z' }) }) },
  responses: {
    200: { description: 'The revoked key', content: { 'application/json': { schema: ApiKeySchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerRevokeApiKey(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const key = await revokeApiKey(deps, c.req.valid('param').id)
    deps.log.info('api_key_revoked', { id: key.id, apiKeyId: c.get('apiKeyId'), requestId: c.get('requestId') })
    return c.json(toApiKeyResponse(key), 200)
  })
}
