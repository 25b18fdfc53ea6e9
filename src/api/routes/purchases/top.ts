import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { ORDER_STAGES, PURCHASES_METHOD, topPurchases } from '../../../metrics/purchases.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdSchema, security } from '../../schemas.js'
import { PurchaseTypeQuery, StageQuery } from '../lifecycle/schemas.js'

const instant = (name: 'from' | 'to', description: string) =>
  z.iso.datetime({ offset: true }).optional().openapi({ param: { name, in: 'query' }, description })

const Query = StageQuery.extend({
  by: z.enum(['product', 'category']).default('product').openapi({ param: { name: 'by', in: 'query' }, description: 'product (sku, else name) or category' }),
  from: instant('from', 'Only orders at or after this instant'),
  to: instant('to', 'Only orders before this instant (default now)'),
  campaignId: CampaignIdSchema.optional().openapi({ param: { name: 'campaignId', in: 'query' }, description: 'Only orders attributed to this campaign (last click, 7 days, as the campaign conversions)' }),
  stage: z.enum(ORDER_STAGES as [string, ...string[]]).optional().openapi({ param: { name: 'stage', in: 'query' }, description: "Only orders whose buyer was in this stage just before (first: the buyer's first order)" }),
  type: PurchaseTypeQuery,
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ param: { name: 'limit', in: 'query' }, example: 50 }),
})

const stageCounts = z.object(Object.fromEntries(ORDER_STAGES.map((s) => [s, z.number().int()])) as Record<string, z.ZodNumber>)

const route = createRoute({
  method: 'get',
  path: '/v1/purchases/top',
  operationId: 'getPurchasesTop',
  tags: ['conversions'],
  summary: 'Products or categories by orders, buyers and revenue, and by the buyer\'s lifecycle stage',
  description: PURCHASES_METHOD.top,
  security,
  request: { query: Query },
  responses: {
    200: {
      description: 'Top products or categories, most orders first',
      content: {
        'application/json': {
          schema: z.object({
            by: z.enum(['product', 'category']),
            orders: z.number().int().openapi({ description: 'Orders with at least one line naming a key, in the selection' }),
            rows: z.array(
              z.object({
                key: z.string(),
                name: z.string().nullable(),
                orders: z.number().int(),
                buyers: z.number().int(),
                quantity: z.number().int(),
                revenue: z.record(z.string(), z.string()).openapi({ example: { EUR: '1234.50' } }),
                ordersByStage: stageCounts,
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

export function registerTopPurchases(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const result = await topPurchases(deps.events, {
      by: q.by,
      kind: q.type,
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : deps.clock(),
      campaignId: q.campaignId,
      stage: q.stage as (typeof ORDER_STAGES)[number] | undefined,
      limit: q.limit,
      newDays: q.newDays,
      activeDays: q.activeDays,
      lapsedDays: q.lapsedDays,
    })
    return c.json({ by: q.by, ...result, method: PURCHASES_METHOD.top }, 200)
  })
}
