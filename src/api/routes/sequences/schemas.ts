import { z } from '@hono/zod-openapi'
import type { Sequence } from '../../../services/sequences.js'
import { SEQUENCE_EXIT_ON } from '../../../store/schema.js'
import { CAMPAIGN_ID_PATTERN, CampaignIdSchema } from '../../schemas.js'

export const SequenceIdSchema = z.string().regex(CAMPAIGN_ID_PATTERN, 'must be 1-64 letters, digits, _ or -')

export const SequenceIdParam = z.object({
  id: SequenceIdSchema.openapi({ param: { name: 'id', in: 'path' }, example: 'welcome' }),
})

const Duration = z.string().min(2).max(40)

export const StepInputSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -').openapi({ example: 'day3' }),
    campaignId: CampaignIdSchema.openapi({ example: 'welcome-day3' }),
    offset: Duration.openapi({ description: 'ISO-8601 duration after entry: weeks, days, hours, minutes, seconds (P0D, P3D, PT12H); strictly increasing from step to step', example: 'P3D' }),
  })
  .strict()

export const GoalInputSchema = z
  .object({
    type: z.string().min(1).max(64).optional().openapi({ description: 'Conversion type (the `type` of POST /v1/conversions); default purchase', example: 'purchase' }),
    within: Duration.openapi({ description: 'ISO-8601 duration after entry within which a conversion counts', example: 'P14D' }),
  })
  .strict()

export const ExitOnSchema = z
  .array(z.enum(SEQUENCE_EXIT_ON))
  .openapi({ description: 'What makes a recipient leave. Default: converted (when there is a goal), unsubscribed, suppressed. Removal and erasure always do.' })

export const SequenceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    steps: z.array(z.object({ id: z.string(), campaignId: z.string(), offset: z.string(), offsetMs: z.number().int() })),
    exitOn: z.array(z.string()),
    goal: z.object({ type: z.string(), within: z.string(), withinMs: z.number().int() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Sequence')

export function toSequence(s: Sequence) {
  return { ...s, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() }
}

export const EnrollmentSchema = z
  .object({
    recipientId: z.string(),
    enteredAt: z.string(),
    status: z.enum(['active', 'completed', 'exited']),
    nextStepId: z.string().nullable(),
    dueAt: z.string().nullable(),
    sent: z.record(z.string(), z.string()).openapi({ description: 'Step id → when it was sent' }),
    exit: z.object({ reason: z.string(), stepId: z.string().nullable(), at: z.string() }).nullable(),
  })
  .openapi('Enrollment')

export const RecipientIdParam = z.object({
  id: SequenceIdSchema.openapi({ param: { name: 'id', in: 'path' }, example: 'welcome' }),
  recipientId: z.string().min(1).max(256).openapi({ param: { name: 'recipientId', in: 'path' }, example: 'cust-42' }),
})
