import { z } from '@hono/zod-openapi'
import { ENGAGEMENT_STATUSES } from '../../../metrics/recipient-activity.js'
import { CampaignIdSchema } from '../../schemas.js'

export const TriggerIdParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, example: 'trg_Xq2mB9aP0zK3v9x0' }) })

export const AudienceSchema = z
  .union([
    z
      .object({
        campaignId: CampaignIdSchema,
        filter: z
          .record(z.string(), z.union([z.string(), z.array(z.string())]))
          .default({})
          .openapi({ description: "The campaign audience endpoint's query parameters (clicked, notClicked, opened, converted, convertedWithin, segment, …)", example: { clicked: 'x7Kq2mB9aP0z', converted: 'false', convertedWithin: '7d' } }),
      })
      .strict(),
    // The wake-up list's (GET /v1/audience) status and threshold names; bounds kept as they were for stored triggers.
    z
      .object({
        status: z.enum(ENGAGEMENT_STATUSES).optional().openapi({ description: 'The engagement status to enter on (default inactive), as GET /v1/engagement defines it', example: 'inactive' }),
        inactiveDays: z.number().int().min(1).max(3650).openapi({ description: 'No human open or click within this many days: inactive or dormant', example: 90 }),
        minSends: z.number().int().min(1).max(100_000).openapi({ description: 'Sends within inactiveDays needed to call a recipient inactive', example: 3 }),
        activeDays: z.number().int().min(1).max(365).optional().openapi({ description: 'A human open or click within this many days: active (default 30, below inactiveDays)', example: 30 }),
      })
      .strict()
      .refine((a) => a.activeDays === undefined || a.activeDays < a.inactiveDays, { message: 'activeDays must be less than inactiveDays', path: ['activeDays'] }),
  ])
  .openapi('TriggerAudience')

export const TriggerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    audience: AudienceSchema,
    everyMs: z.number().int(),
    lastRunAt: z.string().nullable(),
    nextRunAt: z.string(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    members: z.number().int().optional(),
  })
  .openapi('Trigger')
