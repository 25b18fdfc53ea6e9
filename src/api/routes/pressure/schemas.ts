import { z } from '@hono/zod-openapi'
import { ENGAGEMENT_STATUSES, type EngagementThresholds } from '../../../metrics/recipient-activity.js'
import { invalid } from '../../../util/errors.js'
import { MAX_WINDOW_DAYS, parseWindowDays } from '../../../util/window.js'
import { CategorySchema } from '../../schemas.js'

/** An ISO-8601 window in days or weeks (P7D, P30D, P2W) → days; anything else is a 400 naming the field. */
export const WindowSchema = z
  .string()
  .transform((v, ctx) => {
    const days = parseWindowDays(v)
    if (days === null) {
      ctx.addIssue({ code: 'custom', message: `must be an ISO-8601 duration in days or weeks, like P7D, P30D or P2W (at most ${MAX_WINDOW_DAYS} days)` })
      return z.NEVER
    }
    return days
  })
  .openapi({ type: 'string', example: 'P7D' })

export const windowQuery = (name: string, fallback: string, description: string) =>
  WindowSchema.optional()
    .transform((d) => d ?? parseWindowDays(fallback)!)
    .openapi({ param: { name, in: 'query' }, type: 'string', example: fallback, description: `${description} (default ${fallback})` })

export const AtQuery = z.iso.datetime({ offset: true }).optional().openapi({ param: { name: 'at', in: 'query' }, description: 'The instant the figures are computed at (default now); later sends and events are ignored', example: '2026-11-30T00:00:00Z' })

export const CategoryQuery = CategorySchema.optional().openapi({ param: { name: 'category', in: 'query' }, description: 'Only the campaigns of this category (settings.category)', example: 'promotion' })

export const PressureModeSchema = z
  .enum(['skip', 'reject', 'ignore'])
  .default('skip')
  .openapi({
    description:
      'Recipients a pressure rule caps (POST /v1/pressure/rules) or whose own preferences hold back (a category opted out of, their frequency reached): skip them (default; listed under "pressure" with the reason and when they become eligible again), reject the whole call with 409, or ignore rules and preferences. Transactional campaigns are never held back; suppression is applied first and wins.',
  })

export const PressureReportSchema = z
  .object({
    mode: z.enum(['skip', 'reject', 'ignore']),
    category: z.string().openapi({ description: "The campaign's category ('' when none)" }),
    count: z.number().int(),
    recipients: z.array(
      z.object({
        id: z.string(),
        reason: z.enum(['rule', 'preference']),
        rule: z.object({ id: z.string(), max: z.number().int(), window: z.string(), category: z.string().nullable() }).optional(),
        preference: z
          .union([z.object({ kind: z.literal('category'), category: z.string() }), z.object({ kind: z.literal('frequency'), max: z.number().int(), window: z.string() })])
          .optional(),
        sends: z.number().int().openapi({ description: 'Sends counted against the cap in its window' }),
        eligibleAt: z.string().nullable().openapi({ description: 'When the recipient can be sent this campaign; null: not until they change their preferences', example: '2026-12-03T09:00:00.000Z' }),
      }),
    ),
  })
  .openapi('PressureReport')

export const RuleSchema = z
  .object({ id: z.string(), max: z.number().int(), window: z.string(), category: z.string().nullable(), createdAt: z.string() })
  .openapi('PressureRule', { example: { id: 'pr_x7Kq2mB9aP0z', max: 3, window: 'P7D', category: 'promotion', createdAt: '2026-11-23T09:00:00.000Z' } })

export const FrequencySchema = z.object({ max: z.number().int().min(1).max(1000), window: WindowSchema }).strict()

export const PreferencesSchema = z
  .object({
    recipientId: z.string(),
    categories: z.record(z.string(), z.boolean()),
    maxPerWindow: z.object({ max: z.number().int(), window: z.string() }).nullable(),
    updatedAt: z.string().nullable(),
  })
  .openapi('Preferences', { example: { recipientId: 'cust-42', categories: { newsletter: true, promotion: false }, maxPerWindow: { max: 1, window: 'P7D' }, updatedAt: '2026-11-23T09:00:00.000Z' } })

export const StatusEnum = z.enum(ENGAGEMENT_STATUSES)

export const ThresholdsQuery = {
  activeDays: z.coerce.number().int().min(1).max(365).default(30).openapi({ param: { name: 'activeDays', in: 'query' }, description: 'A human open or click within this many days: active (default 30)' }),
  inactiveDays: z.coerce.number().int().min(2).max(730).default(90).openapi({ param: { name: 'inactiveDays', in: 'query' }, description: 'No human open or click within this many days: inactive or dormant (default 90); between activeDays and this: lapsing' }),
  minSends: z.coerce.number().int().min(1).max(1000).default(3).openapi({ param: { name: 'minSends', in: 'query' }, description: 'Sends within inactiveDays needed to call a recipient inactive (default 3)' }),
}

/** The thresholds of a request; inactiveDays not past activeDays is a 400. */
export function toThresholds(q: { activeDays: number; inactiveDays: number; minSends: number }): EngagementThresholds {
  if (q.inactiveDays <= q.activeDays) throw invalid(`query.inactiveDays: must be more than activeDays (${q.inactiveDays} <= ${q.activeDays})`)
  return { activeDays: q.activeDays, inactiveDays: q.inactiveDays, minSends: q.minSends }
}

export const RecipientIdParam = z.object({ id: z.string().min(1).max(256).openapi({ param: { name: 'id', in: 'path' }, example: 'cust-42' }) })
