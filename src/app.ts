import { randomUUID } from 'node:crypto'
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { AppEnv } from './api/context.js'
import type { AppDeps } from './deps.js'
import { bearerAuth } from './api/auth.js'
import { authRateLimit } from './api/auth-limit.js'
import { bodyGuard } from './api/body-guard.js'
import { retentionNotices } from './api/retention.js'
import { ApiError, ERROR_STATUS, errorBody } from './api/errors.js'
import { describeIssues, DomainError } from './util/errors.js'
import { registerApiKeysRoutes } from './api/routes/api-keys/index.js'
import { registerCreateCampaign } from './api/routes/campaigns/create.js'
import { registerGetCampaign } from './api/routes/campaigns/get.js'
import { registerListCampaigns } from './api/routes/campaigns/list.js'
import { registerCreateLink } from './api/routes/links/create.js'
import { registerListLinks } from './api/routes/links/list.js'
import { registerUpdateLink } from './api/routes/links/update.js'
import { registerLinkHistory } from './api/routes/links/history.js'
import { registerDomainsRoutes } from './api/routes/domains/index.js'
import { recipientLimit, registerCreateSends } from './api/routes/sends/create.js'
import { registerClassificationRoutes } from './api/routes/classification/index.js'
import { registerConversionsRoutes } from './api/routes/conversions/index.js'
import { registerLifecycleRoutes } from './api/routes/lifecycle/index.js'
import { registerPurchasesRoutes } from './api/routes/purchases/index.js'
import { registerMetricsRoutes } from './api/routes/metrics/index.js'
import { registerPressureRoutes } from './api/routes/pressure/index.js'
import { registerSendersRoutes } from './api/routes/senders/index.js'
import { registerSequencesRoutes } from './api/routes/sequences/index.js'
import { registerDashboard } from './dashboard/index.js'
import { registerWebhooksRoutes } from './api/routes/webhooks/index.js'
import { registerTriggersRoutes } from './api/routes/triggers/index.js'
import { registerEventStream } from './api/routes/events/stream.js'
import { registerDocs } from './api/routes/system/docs.js'
import { registerHealth } from './api/routes/system/health.js'
import { registerBackup } from './api/routes/system/backup.js'

const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'sillage',
    version: '0.1.0',
    description: 'Self-hosted e-mail tracking: campaigns, links, sends, and the metrics of what readers did.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
}

/** Builds the Hono app from its dependencies; the hot paths (/c, /o) are answered before it, in server.ts. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const { message, details } = describeIssues(result.target === 'json' ? 'body' : result.target, result.error.issues)
        return c.json(errorBody(c, 'validation_failed', message, details), 400)
      }
      return undefined
    },
  })

  app.use('*', async (c, next) => {
    c.set('deps', deps)
    c.set('requestId', c.req.header('x-request-id')?.slice(0, 100) || randomUUID())
    await next()
    c.header('X-Request-Id', c.get('requestId'))
  })

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: deps.config.maxBodyBytes,
      // The rest of the body is not read: close the connection so it cannot be taken for the next request.
      onError: (c) => c.json(errorBody(c, 'payload_too_large', `request body is larger than ${deps.config.maxBodyBytes} bytes`), 413, { Connection: 'close' }),
    }),
  )
  app.use('/v1/*', async (c, next) => {
    const method = c.req.method
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const type = c.req.header('content-type') ?? ''
      const hasBody = c.req.header('content-length') !== '0' || c.req.header('transfer-encoding')
      if (hasBody && !/^application\/json\b/i.test(type) && !/\+json\b/i.test(type)) {
        throw new ApiError('unsupported_media_type', `expected Content-Type: application/json, got ${type || 'none'}`)
      }
    }
    await next()
  })
  app.use('/v1/*', authRateLimit())
  app.use('/v1/*', bearerAuth())
  // Lists counted before anything walks or validates them: a huge body is refused in microseconds.
  app.use('/v1/campaigns/:id/sends', recipientLimit())
  app.use('/v1/campaigns/:id/render', recipientLimit())
  app.use('/v1/*', bodyGuard())
  app.use('/v1/*', retentionNotices(app))

  registerHealth(app)
  registerBackup(app)
  registerCreateCampaign(app)
  registerListCampaigns(app)
  registerGetCampaign(app)
  registerCreateLink(app)
  registerListLinks(app)
  registerUpdateLink(app)
  registerLinkHistory(app)
  registerDomainsRoutes(app)
  registerCreateSends(app)
  registerApiKeysRoutes(app)
  registerMetricsRoutes(app)
  registerSendersRoutes(app)
  registerClassificationRoutes(app)
  registerConversionsRoutes(app)
  registerSequencesRoutes(app)
  registerLifecycleRoutes(app)
  registerPurchasesRoutes(app)
  registerPressureRoutes(app)
  registerWebhooksRoutes(app)
  registerTriggersRoutes(app)
  registerEventStream(app)
  registerDashboard(app)

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' })
  // Generating the document walks every route's schemas (~0.2 s here): done on first use, once, since
  // the routes are all registered by then and never change; every request gets the same bytes.
  let openApi: { document: ReturnType<typeof app.getOpenAPI31Document>; json: string } | null = null
  const openApiDocument = () => {
    if (!openApi) {
      const document = app.getOpenAPI31Document({ ...OPENAPI_INFO, servers: [{ url: deps.config.publicBaseUrl, description: 'This server (PUBLIC_BASE_URL)' }] })
      openApi = { document, json: JSON.stringify(document) }
    }
    return openApi
  }
  app.get('/openapi.json', (c) => c.body(openApiDocument().json, 200, { 'Content-Type': 'application/json' }))
  registerDocs(app, () => openApiDocument().document as never)

  app.notFound((c) => c.json(errorBody(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`), 404))

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(c, err.code, err.message, err.details), err.status)
    if (err instanceof DomainError) return c.json(errorBody(c, err.code, err.message, err.details), ERROR_STATUS[err.code])
    if (err instanceof SyntaxError && /JSON/i.test(err.message)) {
      return c.json(errorBody(c, 'invalid_json', `request body is not valid JSON: ${err.message}`), 400)
    }
    if (err instanceof HTTPException) {
      const status = err.status
      if (status === 400) return c.json(errorBody(c, 'invalid_json', err.message || 'malformed request body'), 400)
      if (status === 413) return c.json(errorBody(c, 'payload_too_large', err.message), 413)
      if (status === 401) return c.json(errorBody(c, 'unauthorized', err.message), 401)
      return c.json(errorBody(c, 'bad_request', err.message), status === 404 ? 404 : 400)
    }
    if (isNulRefusal(err)) {
      return c.json(errorBody(c, 'validation_failed', 'a text value contains U+0000 (NUL), which the metadata store cannot hold'), 400)
    }
    deps.log.error('unhandled_error', { requestId: c.get('requestId'), path: c.req.path, message: (err as Error)?.message, stack: (err as Error)?.stack })
    return c.json(errorBody(c, 'internal', 'internal error; the request id is in the server log'), 500)
  })

  return app
}

export type App = ReturnType<typeof createApp>

/**
 * PostgreSQL (and PGlite) refuse U+0000 in text with SQLSTATE 22021 wherever a client's string
 * reaches them (names, ids in paths and queries): the client's mistake, answered as a 400 for
 * every route at once rather than by a check on each field. Drizzle wraps the driver's error.
 */
function isNulRefusal(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (e.code === '22021') return true
  }
  return false
}
