import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { addDomain } from '../../../services/domains.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { DomainSchema, toDomainResponse } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/domains',
  operationId: 'createTrackingDomain',
  tags: ['domains'],
  summary: 'Register a branded tracking domain (admin)',
  description:
    'The host must be a CNAME to this server, with TLS at your reverse proxy (docs/tracking-domains.md). default: true makes it the domain of ' +
    'campaigns without a trackingDomain setting (the former default is no longer).',
  security,
  request: {
    body: jsonBody(z.object({ host: z.string().min(1).max(253).openapi({ example: 'click.brand.example' }), default: z.boolean().optional() }).strict()),
  },
  responses: {
    201: { description: 'Registered', content: { 'application/json': { schema: DomainSchema } } },
    ...errorResponses(400, 401, 403, 409, 415),
  },
})

export function registerCreateDomain(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(toDomainResponse(await addDomain(c.get('deps'), c.req.valid('json'))), 201))
}
