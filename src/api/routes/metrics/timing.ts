import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { timing } from '../../../metrics/timing.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { TzQuery, UNIQUES_NOTE } from './common.js'
import { campaignWindow, WindowQuery } from '../../../metrics/query.js'

const Query = WindowQuery.extend({
  by: z.enum(['segment', 'variant']).optional().openapi({ param: { name: 'by', in: 'query' }, description: 'Group by segment or variant; omitted: everyone (key "")' }),
  tz: TzQuery,
})

const Quantile = z.number().nullable()
const Reaction = z.object({
  count: z.number().int(),
  quantiles: z.object({ p25: Quantile, p50: Quantile, p75: Quantile, p90: Quantile }).openapi({ description: 'Seconds from send to first event' }),
  histogram: z.array(z.object({ fromSeconds: z.number(), toSeconds: z.number().nullable(), count: z.number().int() })),
  byHour: z.array(z.number().int()).openapi({ description: '24 counts, local hour 0–23 of the first event' }),
  byWeekday: z.array(z.number().int()).openapi({ description: '7 counts, Monday first' }),
  byWeekdayHour: z.array(z.array(z.number().int())).openapi({ description: '7 rows (Monday first) of 24 counts (local hour 0–23): the first events by weekday and hour; byHour and byWeekday are its sums' }),
})

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/timing',
  operationId: 'getTiming',
  tags: ['metrics'],
  summary: 'When people react: time to first open and click, hour of day, day of week',
  description: `Per recipient: first open and first click (min event time) minus sent_at, as quantiles (interpolated) and a histogram (5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 d, 2 d, 7 d, more), and the local hour and weekday of that first event in \`tz\`. Only recipients with a send row. ${UNIQUES_NOTE}`,
  security,
  request: { params: CampaignIdParam, query: Query },
  responses: {
    200: {
      description: 'Timing per group',
      content: {
        'application/json': {
          schema: z
            .object({ campaignId: z.string(), by: z.string().nullable(), tz: z.string(), groups: z.array(z.object({ key: z.string(), firstOpen: Reaction, firstClick: Reaction })) })
            .openapi('Timing', {
              example: {
                campaignId: 'spring-sale',
                by: 'segment',
                tz: 'Europe/Paris',
                groups: [
                  {
                    key: 'vip',
                    firstOpen: {
                      count: 420,
                      quantiles: { p25: 900, p50: 3600, p75: 14400, p90: 86400 },
                      histogram: [{ fromSeconds: 0, toSeconds: 300, count: 40 }],
                      byHour: [0, 0, 0, 0, 0, 0, 3, 20, 60, 80, 50, 30, 40, 30, 20, 15, 12, 20, 15, 10, 8, 5, 2, 0],
                      byWeekday: [200, 80, 50, 30, 30, 15, 15],
                      byWeekdayHour: [[0, 0, 0, 0, 0, 0, 1, 8, 25, 40, 30, 20, 20, 15, 10, 8, 5, 10, 5, 3, 1, 0, 0, 0], ...new Array(6).fill(new Array(24).fill(0))],
                    },
                    firstClick: {
                      count: 90,
                      quantiles: { p25: 1200, p50: 5400, p75: 18000, p90: 90000 },
                      histogram: [{ fromSeconds: 0, toSeconds: 300, count: 5 }],
                      byHour: new Array(24).fill(0),
                      byWeekday: [50, 20, 10, 5, 5, 0, 0],
                      byWeekdayHour: new Array(7).fill(new Array(24).fill(0)),
                    },
                  },
                ],
              },
            }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerTiming(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    const groups = await timing(deps.events, id, q.by ?? null, q.tz, w)
    return c.json({ campaignId: id, by: q.by ?? null, tz: q.tz, groups }, 200)
  })
}
