import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { deleteDomain } from '../../../services/domains.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { HostParam } from './schemas.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/domains/{host}',
  operationId: 'deleteTrackingDomain',
  tags: ['domains'],
  summary: 'Remove a tracking domain no campaign names (admin)',
  description: 'Links already sent on it keep working as long as its DNS points here: the edge answers every host (counted as unknown in /metrics).',
  security,
  request: { params: HostParam },
  responses: {
    204: { description: 'Removed' },
    ...errorResponses(400, 401, 403, 404, 409),
  },
})

export function registerDeleteDomain(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    await deleteDomain(c.get('deps'), c.req.valid('param').host)
    return c.body(null, 204)
  })
}
