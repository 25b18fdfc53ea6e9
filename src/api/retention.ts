import type { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { retentionNotice } from '../store/retention.js'
import type { AppEnv } from './context.js'

/**
 * With a retention configured (EVENT_RETENTION_DAYS …), every endpoint that takes a `from`
 * window (the metrics) says in its answer what retention cut, rather than showing a silent drop:
 * a JSON object answer gets `retention: {cutoff, partial, days}`, any other (CSV, NDJSON) the
 * `Sillage-Retention-Cutoff` and `Sillage-Retention-Partial` headers. The endpoints are found in
 * the OpenAPI registry (a query schema with `from`), so a new metric gets it without a line here.
 */
export function retentionNotices(app: OpenAPIHono<AppEnv>): MiddlewareHandler<AppEnv> {
  let windowed: RegExp[] | null = null
  const isWindowed = (path: string) => {
    windowed ??= app.openAPIRegistry.definitions.flatMap((d) => {
      if (d.type !== 'route' || d.route.method !== 'get') return []
      const shape = (d.route.request?.query as { shape?: Record<string, unknown> } | undefined)?.shape
      if (!shape || !('from' in shape)) return []
      const pattern = d.route.path.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+')
      return [new RegExp(`^${pattern}$`)]
    })
    return windowed.some((re) => re.test(path))
  }
  return async (c, next) => {
    await next()
    const { config, clock } = c.get('deps')
    if (c.req.method !== 'GET' || c.res.status !== 200 || !isWindowed(c.req.path)) return
    const from = c.req.query('from')
    const notice = retentionNotice(config.retention, clock(), from ? Date.parse(from) : undefined)
    if (!notice) return
    const res = c.res
    if (/^application\/json\b/.test(res.headers.get('content-type') ?? '')) {
      const text = await res.text()
      const body = JSON.parse(text) as unknown
      const isObject = body !== null && typeof body === 'object' && !Array.isArray(body)
      const headers = new Headers(res.headers)
      headers.delete('content-length')
      c.res = undefined
      c.res = new Response(isObject ? JSON.stringify({ ...body, retention: notice }) : text, { status: 200, headers })
      if (isObject) return
    }
    c.header('Sillage-Retention-Cutoff', notice.cutoff)
    c.header('Sillage-Retention-Partial', String(notice.partial))
  }
}
