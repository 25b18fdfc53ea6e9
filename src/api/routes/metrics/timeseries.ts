import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { MAX_BUCKETS, timeseries } from '../../../metrics/timeseries.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { TzQuery, UNIQUES_NOTE } from './common.js'
import { campaignWindow, WindowQuery } from '../../../metrics/query.js'

const Query = WindowQuery.extend({
  metric: z.enum(['opens', 'clicks', 'unique_openers', 'unique_clickers']).default('opens').openapi({ param: { name: 'metric', in: 'query' } }),
  interval: z.enum(['minute', 'hour', 'day']).default('hour').openapi({ param: { name: 'interval', in: 'query' } }),
  tz: TzQuery,
})

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/timeseries',
  operationId: 'getTimeseries',
  tags: ['metrics'],
  summary: 'A metric per minute, hour or day, zero-filled, in a time zone',
  description: `Buckets are cut on the wall clock of \`tz\` (a local day is 23 or 25 hours across a DST change) from \`from\` (default: the first such event) to \`to\` (exclusive; default: the last event), empty buckets 0. At most ${MAX_BUCKETS} buckets. unique_* count distinct recipients within each bucket. ${UNIQUES_NOTE}`,
  security,
  request: { params: CampaignIdParam, query: Query },
  responses: {
    200: {
      description: 'Buckets',
      content: {
        'application/json': {
          schema: z
            .object({
              campaignId: z.string(),
              metric: z.string(),
              interval: z.string(),
              tz: z.string(),
              traffic: z.enum(['human', 'machine', 'all']),
              buckets: z.array(z.object({ start: z.string(), local: z.string(), value: z.number().int() })),
            })
            .openapi('Timeseries', {
              example: {
                campaignId: 'spring-sale',
                metric: 'opens',
                interval: 'hour',
                tz: 'Europe/Paris',
                traffic: 'human',
                buckets: [
                  { start: '2026-11-23T09:00:00.000Z', local: '2026-11-23T10:00:00', value: 812 },
                  { start: '2026-11-23T10:00:00.000Z', local: '2026-11-23T11:00:00', value: 0 },
                ],
              },
            }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerTimeseries(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    const buckets = await timeseries(deps.events, id, q.metric, q.interval, q.tz, w)
    return c.json({ campaignId: id, metric: q.metric, interval: q.interval, tz: q.tz, traffic: w.traffic, buckets }, 200)
  })
}
