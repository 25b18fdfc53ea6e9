import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from '@hono/zod-openapi'
import { recordConversions } from '../../../conversions/ingest.js'
import { GIF, GIF_RESPONSE_HEADERS } from '../../../tracking/edge.js'
import type { AppEnv } from '../../context.js'
import { publicOperation } from '../../errors.js'
import { ConversionSchema } from './schemas.js'

const PATH = '/t/conversion.gif'

const PixelQuery = z.object({
  cid: z.string().optional().openapi({ description: 'Click id (sl_cid) kept by the landing site' }),
  order: z.string().openapi({ description: 'Order id (idempotency key)', example: 'order-10042' }),
  amount: z.string().optional().openapi({ example: '49.90' }),
  currency: z.string().optional().openapi({ example: 'EUR' }),
  type: z.string().optional().openapi({ example: 'purchase' }),
})

/**
 * The conversion pixel, for shops that cannot call the API from their server. It is public (a click
 * id is the only credential it takes: a recipient id from a public URL would be unverified) and
 * always answers the GIF; what it records follows POST /v1/conversions, except that an invalid click
 * id is stored as unattributed (flagged) instead of refused, since nobody reads the answer.
 */
export function registerConversionPixel(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: PATH,
    operationId: 'conversionPixel',
    tags: ['conversions'],
    summary: 'Conversion pixel (public): always a 43-byte GIF; records the conversion when the parameters are valid',
    request: { query: PixelQuery },
    security: publicOperation.security,
    responses: { 200: { description: 'The transparent GIF', content: { 'image/gif': { schema: z.string().openapi({ format: 'binary' }) } } }, ...publicOperation.clientErrors },
  })
  app.on(['GET', 'HEAD'], PATH, async (c) => {
    const deps = c.get('deps')
    const q = c.req.query()
    const parsed = ConversionSchema.safeParse({
      orderId: q.order,
      ...(q.cid ? { clickId: q.cid } : {}),
      ...(q.amount !== undefined ? { amount: q.amount } : {}),
      ...(q.currency ? { currency: q.currency } : {}),
      ...(q.type ? { type: q.type } : {}),
    })
    if (c.req.method === 'GET' && parsed.success) {
      try {
        await recordConversions(deps, [{ ...parsed.data, at: undefined }], {
          invalidClickId: 'unattributed',
          source: 'pixel',
          userAgent: c.req.header('user-agent') ?? '',
          referer: c.req.header('referer') ?? '',
          field: () => 'query',
        })
      } catch (err) {
        deps.log.warn('conversion_pixel_rejected', { message: (err as Error).message })
      }
    } else if (!parsed.success) {
      deps.log.debug('conversion_pixel_invalid', { issues: parsed.error.issues.map((i) => i.path.join('.') + ': ' + i.message) })
    }
    const headers = GIF_RESPONSE_HEADERS
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : c.body(new Uint8Array(GIF), 200, headers)
  })
}
