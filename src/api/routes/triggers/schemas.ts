import { z } from '@hono/zod-openapi'
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
    z
      .object({
        inactiveDays: z.number().int().min(1).max(3650).openapi({ description: 'No human open or click for this many days', example: 90 }),
        minSends: z.number().int().min(1).max(100_000).openapi({ description: 'At least this many sends across campaigns', example: 3 }),
      })
      .strict(),
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
