import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { pressureDistribution } from '../../../metrics/pressure.js'
import { campaignsOfCategory } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { AtQuery, CategoryQuery, windowQuery } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/pressure',
  operationId: 'getPressure',
  tags: ['pressure'],
  summary: 'Marketing pressure: how many messages each recipient received in a window',
  description:
    'The distribution of sends per recipient within (at − window, at]: recipients with 0, 1, 2, … sends (every recipient ever sent to is counted, so those with none in the window are the 0 bar), mean and percentiles (nearest rank). A send is one per campaign and recipient (a repeated send replaces the earlier one). With `category`, only that category\'s sends are counted, over the same population.',
  security,
  request: { query: z.object({ window: windowQuery('window', 'P7D', 'The window'), at: AtQuery, category: CategoryQuery }) },
  responses: {
    200: {
      description: 'The distribution',
      content: {
        'application/json': {
          schema: z.object({
            at: z.string(),
            window: z.string(),
            category: z.string().nullable(),
            recipients: z.number().int(),
            sends: z.number().int(),
            histogram: z.array(z.object({ sends: z.number().int(), recipients: z.number().int() })),
            mean: z.number(),
            percentiles: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerPressureDistribution(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const campaigns = q.category ? await campaignsOfCategory(deps, q.category) : undefined
    const d = await pressureDistribution(deps.events, { at: q.at ? Date.parse(q.at) : deps.clock(), windowDays: q.window, campaigns })
    const { windowDays, ...rest } = d
    return c.json({ ...rest, window: `P${windowDays}D`, category: q.category ?? null }, 200)
  })
}
