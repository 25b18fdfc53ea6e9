import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { engagementCounts, engagementWeekly, MAX_WEEKLY_POINTS } from '../../../metrics/engagement.js'
import { ENGAGEMENT_STATUSES, statusDefinitions } from '../../../metrics/recipient-activity.js'
import { campaignsOfCategory } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { AtQuery, CategoryQuery, ThresholdsQuery, toThresholds } from './schemas.js'

const Counts = z.object({
  at: z.string(),
  recipients: z.number().int(),
  counts: z.object(Object.fromEntries(ENGAGEMENT_STATUSES.map((s) => [s, z.number().int()])) as Record<(typeof ENGAGEMENT_STATUSES)[number], z.ZodNumber>),
})

const route = createRoute({
  method: 'get',
  path: '/v1/engagement',
  operationId: 'getEngagement',
  tags: ['pressure'],
  summary: 'Recipients per engagement status across campaigns (active, lapsing, inactive, never engaged, dormant), and weekly',
  description:
    'Every recipient ever sent to (up to `at`) in one status, from their human opens and clicks only (Apple MPP prefetches, scanners and other machines never count as engagement, so a reader whose only opens are MPP prefetches is not active): ' +
    '`active` a human open or click within activeDays; `lapsing` the last one between activeDays and inactiveDays ago; `inactive` none within inactiveDays and at least minSends sends in that time; ' +
    '`never_engaged` none ever and fewer than minSends sends within inactiveDays; `dormant` one once, none within inactiveDays and fewer than minSends sends in that time. ' +
    `With \`from\`, also \`weekly\`: the counts as they were every 7 days from \`at\` back to \`from\` (at most ${MAX_WEEKLY_POINTS} points; each point costs one query). With \`category\`, only that category's sends and engagement count.`,
  security,
  request: {
    query: z.object({
      at: AtQuery,
      from: z.iso.datetime({ offset: true }).optional().openapi({ param: { name: 'from', in: 'query' }, description: 'Start of the weekly series', example: '2026-09-01T00:00:00Z' }),
      category: CategoryQuery,
      ...ThresholdsQuery,
    }),
  },
  responses: {
    200: {
      description: 'The counts',
      content: {
        'application/json': {
          schema: Counts.extend({
            category: z.string().nullable(),
            thresholds: z.object({ activeDays: z.number().int(), inactiveDays: z.number().int(), minSends: z.number().int() }),
            definitions: z.record(z.string(), z.string()),
            weekly: z.array(Counts).optional(),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerEngagement(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const thresholds = toThresholds(q)
    const at = q.at ? Date.parse(q.at) : deps.clock()
    const campaigns = q.category ? await campaignsOfCategory(deps, q.category) : undefined
    const scope = { thresholds, campaigns }
    const weekly = q.from ? await engagementWeekly(deps.events, Date.parse(q.from), at, scope) : undefined
    // The last weekly point is the count at `at`: not computed twice.
    const now = weekly?.at(-1) ?? (await engagementCounts(deps.events, at, scope))
    return c.json({ ...now, category: q.category ?? null, thresholds, definitions: statusDefinitions(thresholds), ...(weekly ? { weekly } : {}) }, 200)
  })
}
