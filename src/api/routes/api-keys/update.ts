import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { API_KEY_CACHE_MS } from '../../../services/auth-keys.js'
import { setApiKeyRole, toApiKeyResponse } from '../../../services/api-keys.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { ADMIN_ONLY, ApiKeyIdParam, ApiKeyRoleSchema, ApiKeySchema } from './schemas.js'

const route = createRoute({
  method: 'patch',
  path: '/v1/api-keys/{id}',
  operationId: 'updateApiKey',
  tags: ['api-keys'],
  summary: "Change an API key's role",
  description:
    `${ADMIN_ONLY} Applies from the key's next request on this instance (other instances: within ${API_KEY_CACHE_MS / 1000} s, their cache time). ` +
    'Keys created before roles existed are members: promote them here with the bootstrap admin key.',
  security,
  request: { params: ApiKeyIdParam, body: jsonBody(z.object({ role: ApiKeyRoleSchema }).strict()) },
  responses: {
    200: { description: 'The key with its new role', content: { 'application/json': { schema: ApiKeySchema } } },
    ...errorResponses(400, 401, 403, 404, 415),
  },
})

export function registerUpdateApiKey(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const key = await setApiKeyRole(deps, c.req.valid('param').id, c.req.valid('json').role)
    deps.log.info('api_key_role_changed', { id: key.id, role: key.role, apiKeyId: c.get('apiKeyId'), requestId: c.get('requestId') })
    return c.json(toApiKeyResponse(key), 200)
  })
}
