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

/** An example's hour-of-week counts and the two sums the answer also gives, consistent with each other. */
function exampleWeek(rows: Record<number, number[]>) {
  const byWeekdayHour = Array.from({ length: 7 }, (_, d) => Array.from({ length: 24 }, (_, h) => rows[d]?.[h] ?? 0))
  return {
    count: byWeekdayHour.flat().reduce((a, b) => a + b, 0),
    byHour: Array.from({ length: 24 }, (_, h) => byWeekdayHour.reduce((a, day) => a + day[h]!, 0)),
    byWeekday: byWeekdayHour.map((day) => day.reduce((a, b) => a + b, 0)),
    byWeekdayHour,
  }
}
const OPENS = exampleWeek({
  0: [0, 0, 0, 0, 0, 0, 2, 14, 40, 52, 33, 20, 26, 20, 13, 10, 8, 13, 10, 7, 5, 3, 1, 0],
  1: [0, 0, 0, 0, 0, 0, 1, 5, 15, 20, 12, 8, 10, 8, 5, 4, 3, 5, 4, 3, 2, 1, 1, 0],
  2: [0, 0, 0, 0, 0, 0, 0, 1, 5, 8, 7, 2, 4, 2, 2, 1, 1, 2, 1, 0, 1, 1, 0, 0],
})
const CLICKS = exampleWeek({
  0: [0, 0, 0, 0, 0, 0, 0, 3, 9, 12, 8, 4, 5, 3, 2, 1, 1, 2, 0, 0, 0, 0, 0, 0],
  1: [0, 0, 0, 0, 0, 0, 0, 1, 4, 5, 3, 2, 2, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
  2: [0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
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
                      ...OPENS,
                      quantiles: { p25: 900, p50: 3600, p75: 14400, p90: 86400 },
                      histogram: [{ fromSeconds: 0, toSeconds: 300, count: 40 }],
                    },
                    firstClick: {
                      ...CLICKS,
                      quantiles: { p25: 1200, p50: 5400, p75: 18000, p90: 90000 },
                      histogram: [{ fromSeconds: 0, toSeconds: 300, count: 5 }],
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
