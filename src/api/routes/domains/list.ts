import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listDomains } from '../../../services/domains.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { DomainSchema, toDomainResponse } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/domains',
  operationId: 'listTrackingDomains',
  tags: ['domains'],
  summary: 'Registered tracking domains, and PUBLIC_BASE_URL (used when none is the default)',
  security,
  responses: {
    200: {
      description: 'Domains',
      content: { 'application/json': { schema: z.object({ domains: z.array(DomainSchema), publicBaseUrl: z.string() }) } },
    },
    ...errorResponses(401),
  },
})

export function registerListDomains(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    return c.json({ domains: (await listDomains(deps)).map(toDomainResponse), publicBaseUrl: deps.config.publicBaseUrl }, 200)
  })
}
