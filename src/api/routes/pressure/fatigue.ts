import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { DEFAULT_FATIGUE_BUCKETS, fatigueCurve } from '../../../metrics/pressure.js'
import { fatigueScope } from '../../../services/pressure.js'
import { DAY_MS } from '../../../util/window.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { IntervalSchema } from '../metrics/common.js'
import { CategoryQuery, windowQuery } from './schemas.js'

const instant = (name: string, description: string) =>
  z.iso.datetime({ offset: true }).optional().openapi({ param: { name, in: 'query' }, description, example: name === 'from' ? '2026-09-01T00:00:00Z' : '2026-12-01T00:00:00Z' })

const route = createRoute({
  method: 'get',
  path: '/v1/pressure/fatigue',
  operationId: 'getFatigue',
  tags: ['pressure'],
  summary: 'The fatigue curve: how opens, clicks, unsubscribes and conversions change with the mail a recipient already got',
  description:
    'Every send made in [from, to) (default: the 90 days before now) goes in the bucket of the number of sends its recipient had received in the `window` before it (that send excluded; with `category`, both the sends measured and the sends counted are that category\'s). Per bucket: sends, and the share of them whose recipient opened (human), clicked (human) or unsubscribed from that campaign, or converted (attributed to it: click attribution, 7-day window), each with its 95% Wilson interval. Machine opens and clicks (Apple MPP, scanners) never count.',
  security,
  request: {
    query: z.object({
      window: windowQuery('window', 'P30D', 'How far back the earlier sends are counted'),
      from: instant('from', 'First send time measured (default: 90 days before to)'),
      to: instant('to', 'Sends before this instant (default now)'),
      category: CategoryQuery,
      buckets: z
        .string()
        .regex(/^\d{1,4}(,\d{1,4}){0,19}$/, 'must be comma-separated whole numbers, e.g. 0,2,4,7')
        .optional()
        .openapi({ param: { name: 'buckets', in: 'query' }, description: `Lower bounds of the buckets, from 0 (default ${DEFAULT_FATIGUE_BUCKETS.join(',')}: 0-1, 2-3, 4-6, 7+)`, example: '0,2,4,7' }),
    }),
  },
  responses: {
    200: {
      description: 'The curve',
      content: {
        'application/json': {
          schema: z.object({
            window: z.string(),
            from: z.string(),
            to: z.string(),
            category: z.string().nullable(),
            buckets: z.array(
              z.object({
                label: z.string(),
                low: z.number().int(),
                high: z.number().int().nullable(),
                sends: z.number().int(),
                opened: z.number().int(),
                clicked: z.number().int(),
                unsubscribed: z.number().int(),
                converted: z.number().int(),
                openRate: IntervalSchema,
                clickRate: IntervalSchema,
                unsubscribeRate: IntervalSchema,
                conversionRate: IntervalSchema,
              }),
            ),
            definition: z.string(),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerFatigue(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const to = q.to ? Date.parse(q.to) : deps.clock()
    const from = q.from ? Date.parse(q.from) : to - 90 * DAY_MS
    const scope = await fatigueScope(deps, q.category)
    const curve = await fatigueCurve(deps, { from, to, windowDays: q.window, ...scope, buckets: q.buckets?.split(',').map(Number) })
    const { windowDays, ...rest } = curve
    return c.json(
      {
        ...rest,
        window: `P${windowDays}D`,
        category: q.category ?? null,
        definition: 'Each rate: sends in the bucket whose recipient did it (numerator) / sends in the bucket (denominator), with its 95% Wilson interval.',
      },
      200,
    )
  })
}
