import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { API_KEY_CACHE_MS } from '../../../services/auth-keys.js'
import { revokeApiKey, toApiKeyResponse } from '../../../services/api-keys.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { ADMIN_ONLY, ApiKeyIdParam, ApiKeySchema } from './schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  operationId: 'revokeApiKey',
  tags: ['api-keys'],
  summary: 'Revoke an API key',
  description:
    `${ADMIN_ONLY} The key is refused from the next request on this instance (other instances: within ${API_KEY_CACHE_MS / 1000} s, their cache time) and its dashboard sessions end. ` +
    'The key stays listed, marked revoked; revoking it again answers the same. An admin key may revoke itself (a leaked key must always be revocable by whoever holds it). ' +
    'The bootstrap admin key (TRACKER_ADMIN_KEY) is not an API key and cannot be revoked here.',
  security,
  request: { params: ApiKeyIdParam },
  responses: {
    200: { description: 'The revoked key', content: { 'application/json': { schema: ApiKeySchema } } },
    ...errorResponses(400, 401, 403, 404),
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
