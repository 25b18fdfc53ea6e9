import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { importSuppressions, listSuppressions, removeSuppressions, toSuppressionResponse } from '../../../services/suppressions.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { jsonBody, Pagination, security } from '../../schemas.js'
import { SuppressionSchema } from './schemas.js'

export const MAX_SUPPRESSIONS_PER_IMPORT = 10_000

const RecipientId = z.string().min(1).max(256)
const Scope = z.string().max(64).openapi({ description: 'Empty (default): global; otherwise a campaign id' })

const listRoute = createRoute({
  method: 'get',
  path: '/v1/suppressions',
  operationId: 'listSuppressions',
  tags: ['suppressions'],
  summary: 'The suppression list, oldest first',
  security,
  request: { query: Pagination.extend({ recipientId: RecipientId.optional(), scope: Scope.optional() }) },
  responses: {
    200: {
      description: 'A page of suppressions',
      content: { 'application/json': { schema: z.object({ suppressions: z.array(SuppressionSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }) } },
    },
    ...errorResponses(400, 401),
  },
})

const importRoute = createRoute({
  method: 'post',
  path: '/v1/suppressions',
  operationId: 'createSuppressions',
  tags: ['suppressions'],
  summary: 'Import suppressions (opt-outs, bounces, complaints from another tool)',
  description: `Up to ${MAX_SUPPRESSIONS_PER_IMPORT} a call (more: 413). An entry that exists for (recipientId, scope) takes the imported reason and time.`,
  security,
  request: {
    body: jsonBody(
      z
        .object({
          suppressions: z
            .array(
              z
                .object({
                  recipientId: RecipientId,
                  reason: z.string().min(1).max(200).openapi({ example: 'hard_bounce' }),
                  scope: Scope.optional(),
                  campaignId: z.string().max(64).optional(),
                  at: z.iso.datetime({ offset: true }).optional(),
                })
                .strict(),
            )
            .min(1),
        })
        .strict(),
    ),
  },
  responses: {
    200: { description: 'Imported', content: { 'application/json': { schema: z.object({ imported: z.number().int() }) } } },
    ...errorResponses(400, 401, 413, 415),
  },
})

const deleteRoute = createRoute({
  method: 'delete',
  path: '/v1/suppressions/{recipientId}',
  operationId: 'deleteSuppression',
  tags: ['suppressions'],
  summary: 'Re-subscribe a recipient',
  description: 'Removes the suppression of one scope (`?scope=`, empty for the global one) or all of them when scope is absent. The reason is written to the audit log.',
  security,
  request: {
    params: z.object({ recipientId: RecipientId.openapi({ param: { name: 'recipientId', in: 'path' } }) }),
    query: z.object({ scope: Scope.optional(), reason: z.string().max(200).optional().openapi({ example: 'opted in again on the website' }) }),
  },
  responses: {
    200: {
      description: 'Removed entries',
      content: { 'application/json': { schema: z.object({ recipientId: z.string(), removed: z.array(SuppressionSchema), at: z.string() }) } },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerSuppressionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const { rows, total } = await listSuppressions(c.get('deps'), q)
    return c.json({ suppressions: rows.map(toSuppressionResponse), total, limit: q.limit, offset: q.offset }, 200)
  })

  app.openapi(importRoute, async (c) => {
    const deps = c.get('deps')
    const { suppressions } = c.req.valid('json')
    if (suppressions.length > MAX_SUPPRESSIONS_PER_IMPORT) {
      throw new ApiError('payload_too_large', `at most ${MAX_SUPPRESSIONS_PER_IMPORT} suppressions per call, got ${suppressions.length}: split the list`)
    }
    const now = deps.clock()
    const imported = await importSuppressions(
      deps,
      suppressions.map((s) => ({ recipientId: s.recipientId, scope: s.scope ?? '', reason: s.reason, campaignId: s.campaignId ?? null, at: new Date(s.at ?? now) })),
    )
    deps.log.info('suppressions_imported', { count: imported, apiKeyId: c.get('apiKeyId'), requestId: c.get('requestId') })
    return c.json({ imported }, 200)
  })

  app.openapi(deleteRoute, async (c) => {
    const deps = c.get('deps')
    const { recipientId } = c.req.valid('param')
    const { scope, reason } = c.req.valid('query')
    const removed = await removeSuppressions(deps, recipientId, scope)
    if (removed.length === 0) throw new ApiError('not_found', `recipient ${recipientId} has no suppression${scope !== undefined ? ` in scope "${scope}"` : ''}`)
    const at = new Date(deps.clock()).toISOString()
    deps.log.info('recipient_resubscribed', {
      recipientId,
      scopes: removed.map((r) => r.scope),
      reason: reason ?? '',
      at,
      apiKeyId: c.get('apiKeyId'),
      requestId: c.get('requestId'),
    })
    return c.json({ recipientId, removed: removed.map(toSuppressionResponse), at }, 200)
  })
}
