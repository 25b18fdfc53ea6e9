import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { publicOperation } from '../../errors.js'

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['system'],
  summary: 'The process is up',
  security: publicOperation.security,
  responses: { 200: { description: 'Up', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } }, ...publicOperation.clientErrors },
})

const Check = z.object({ ok: z.boolean(), message: z.string().optional() })
const Ready = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ clickhouse: Check, metadata: Check, journal: Check }),
})

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  security: publicOperation.security,
  tags: ['system'],
  summary: 'Both stores answer and the journal is writing',
  description: 'Public, so it says status only; the counters are behind /metrics and its token.',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Ready } } },
    503: { description: 'A store does not answer, or events are being lost', content: { 'application/json': { schema: Ready } } },
    ...publicOperation.clientErrors,
  },
})

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; message?: string }> {
  try {
    await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2000).unref())])
    return { ok: true }
  } catch (err) {
    return { ok: false, message: (err as Error).message }
  }
}

export function registerHealth(app: OpenAPIHono<AppEnv>) {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
  app.openapi(readyz, async (c) => {
    const { events, meta, journal } = c.get('deps')
    const [clickhouse, metadata] = await Promise.all([check(() => events.client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json())), check(() => meta.ping())])
    const journalCheck = journal.degraded ? { ok: false, message: journal.stats.lastError ?? 'events lost' } : { ok: true }
    const body = {
      status: clickhouse.ok && metadata.ok && journalCheck.ok ? ('ready' as const) : ('unavailable' as const),
      checks: { clickhouse, metadata, journal: journalCheck },
    }
    return body.status === 'ready' ? c.json(body, 200) : c.json(body, 503)
  })
}
