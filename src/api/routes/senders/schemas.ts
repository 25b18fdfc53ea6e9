import { z } from '@hono/zod-openapi'

export const OnSuppressedSchema = z
  .enum(['skip', 'include', 'reject'])
  .default('skip')
  .openapi({
    description:
      'What to do with recipients on the suppression list (global, or scoped to this campaign): skip them (default; no send recorded), include them (rendered, recorded, listed), or reject the whole call with 409.',
  })

export const SuppressedReportSchema = z
  .object({
    mode: z.enum(['skip', 'include', 'reject']),
    count: z.number().int(),
    recipients: z.array(z.object({ id: z.string(), scope: z.string(), reason: z.string(), at: z.string() })),
  })
  .openapi('SuppressedReport')

export const SuppressionSchema = z
  .object({
    recipientId: z.string(),
    scope: z.string().openapi({ description: 'Empty: global; otherwise a campaign id' }),
    reason: z.string().openapi({ example: 'unsubscribe' }),
    campaignId: z.string().nullable(),
    at: z.string().openapi({ example: '2026-11-23T09:00:00.000Z' }),
  })
  .openapi('Suppression')
