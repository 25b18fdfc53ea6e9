import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { WAKE_UP_CSV_COLUMNS, wakeUpAudience, wakeUpCsvLine } from '../../../metrics/engagement.js'
import { campaignsOfCategory } from '../../../services/pressure.js'
import { DAY_MS } from '../../../util/window.js'
import { rowsResponse } from '../../../metrics/audience-filter.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { multiValue } from '../../../metrics/query.js'
import { AtQuery, CategoryQuery, StatusEnum, ThresholdsQuery, toThresholds, WindowSchema } from './schemas.js'

const RowSchema = z
  .object({
    recipientId: z.string(),
    status: StatusEnum,
    lastOpenAt: z.string().nullable(),
    lastClickAt: z.string().nullable(),
    sends: z.number().int(),
    recentSends: z.number().int(),
    lastSentAt: z.string().nullable(),
    lastPurchaseAt: z.string().nullable(),
  })
  .openapi('WakeUpRow')

const route = createRoute({
  method: 'get',
  path: '/v1/audience',
  operationId: 'getEngagementAudience',
  tags: ['pressure'],
  summary: 'The wake-up list across campaigns: recipients by engagement status, streamed (NDJSON or CSV)',
  description:
    `The recipients whose engagement status at \`at\` is one of \`status\` (default inactive; same definitions and thresholds as GET /v1/engagement, so the list is exactly what it counts), in recipient order. ` +
    'Human opens and clicks only: an Apple MPP prefetch is not engagement. `lastPurchaseBefore=P47D` keeps the customers whose last purchase (conversion kind purchase) is at least that long before `at` (e.g. the lapse day of GET /v1/lifecycle). ' +
    `One JSON object per line (default), or CSV with \`Accept: text/csv\` (columns ${WAKE_UP_CSV_COLUMNS.join(', ')}; a cell starting with =, +, -, @, tab or CR gets a leading ' so spreadsheets do not run it).`,
  security,
  request: {
    query: z.object({
      status: multiValue('status', 'Statuses to list (repeatable or comma-separated; default inactive)', 'inactive').pipe(z.array(StatusEnum)),
      at: AtQuery,
      category: CategoryQuery,
      lastPurchaseBefore: WindowSchema.optional().openapi({
        param: { name: 'lastPurchaseBefore', in: 'query' },
        type: 'string',
        example: 'P47D',
        description: 'Only customers whose last purchase is at least this long before at (ISO-8601 days or weeks)',
      }),
      ...ThresholdsQuery,
    }),
  },
  responses: {
    200: {
      description: 'The matching recipients, one per line',
      content: {
        'application/x-ndjson': { schema: RowSchema },
        'text/csv': { schema: z.string().openapi({ example: `${WAKE_UP_CSV_COLUMNS.join(',')}\r\ncust-42,inactive,,,7,5,2026-11-20T09:00:00.000Z,\r\n` }) },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerWakeUpAudience(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const thresholds = toThresholds(q)
    const campaigns = q.category ? await campaignsOfCategory(deps, q.category) : undefined
    const statuses = q.status.length ? q.status : (['inactive'] as const)
    const rows = wakeUpAudience(deps.events, {
      at: q.at ? Date.parse(q.at) : deps.clock(),
      thresholds,
      campaigns,
      statuses: [...statuses],
      lastPurchaseBeforeMs: q.lastPurchaseBefore === undefined ? undefined : q.lastPurchaseBefore * DAY_MS,
    })
    const csv = /\btext\/csv\b/i.test(c.req.header('accept') ?? '')
    return (await rowsResponse(rows, { format: csv ? 'csv' : 'ndjson', columns: WAKE_UP_CSV_COLUMNS, csvLine: wakeUpCsvLine, filename: `wake-up-${statuses.join('-')}` })) as never
  })
}
