import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { nextPurchases } from '../../../metrics/purchases.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { AtQuery, PurchaseTypeQuery } from '../lifecycle/schemas.js'

const Query = z.object({
  after: z.string().min(1).max(200).openapi({ param: { name: 'after', in: 'query' }, example: 'SKU-COFFEE-1KG', description: 'The product (sku, else name) or category bought first' }),
  by: z.enum(['product', 'category']).default('product').openapi({ param: { name: 'by', in: 'query' }, description: 'Whether `after` and the answer are products or categories' }),
  at: AtQuery,
  type: PurchaseTypeQuery,
  limit: z.coerce.number().int().min(1).max(500).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
})

const route = createRoute({
  method: 'get',
  path: '/v1/purchases/next',
  operationId: 'getPurchasesNext',
  tags: ['conversions'],
  summary: 'What buyers of a product or category bought in their next order, and after how many days',
  description: 'To time a cross-sell: the share of buyers of `after` whose next order holds each product (Wilson interval) and the days until it (median, quartiles).',
  security,
  request: { query: Query },
  responses: {
    200: {
      description: 'Next purchases, most buyers first',
      content: {
        'application/json': {
          schema: z.object({
            after: z.string(),
            by: z.enum(['product', 'category']),
            buyers: z.number().int().openapi({ description: 'Recipients who bought `after`: the denominator of the shares' }),
            returned: z.number().int().openapi({ description: 'Among them, those with a later order' }),
            next: z.array(
              z.object({
                key: z.string(),
                name: z.string().nullable(),
                buyers: z.number().int(),
                share: z.number(),
                low: z.number(),
                high: z.number(),
                days: z.object({ median: z.number(), p25: z.number(), p75: z.number() }),
              }),
            ),
            method: z.string(),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerNextPurchases(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const result = await nextPurchases(deps.events, { by: q.by, after: q.after, kind: q.type, to: q.at ? Date.parse(q.at) : deps.clock(), limit: q.limit })
    return c.json(result, 200)
  })
}
