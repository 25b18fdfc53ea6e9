import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listApiKeys, toApiKeyResponse } from '../../../services/api-keys.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { PageInfo, pageInfo, Pagination, security } from '../../schemas.js'
import { ADMIN_ONLY, ApiKeySchema } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  operationId: 'listApiKeys',
  tags: ['api-keys'],
  summary: 'List API keys, oldest first (names, prefixes and roles; never the keys)',
  description: ADMIN_ONLY,
  security,
  request: { query: Pagination },
  responses: {
    200: { description: 'A page of API keys', content: { 'application/json': { schema: z.object({ apiKeys: z.array(ApiKeySchema), ...PageInfo }) } } },
    ...errorResponses(400, 401, 403),
  },
})

export function registerListApiKeys(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const { rows, total } = await listApiKeys(c.get('deps'), q)
    return c.json({ apiKeys: rows.map(toApiKeyResponse), ...pageInfo(q, total) }, 200)
  })
}
