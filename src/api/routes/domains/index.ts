import type { OpenAPIHono } from '@hono/zod-openapi'
import { requireAdmin } from '../../auth.js'
import type { AppEnv } from '../../context.js'
import { registerCreateDomain } from './create.js'
import { registerDeleteDomain } from './delete.js'
import { registerListDomains } from './list.js'

/** Tracking domains: any key lists them; adding and removing one is an admin's (it changes every sender's URLs). */
export function registerDomainsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.on(['POST', 'DELETE'], ['/v1/domains', '/v1/domains/*'], requireAdmin('managing tracking domains'))
  registerCreateDomain(app)
  registerListDomains(app)
  registerDeleteDomain(app)
}
