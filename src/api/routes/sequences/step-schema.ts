import { z } from '@hono/zod-openapi'
import { SequenceIdSchema } from './schemas.js'

/** The `sequence` option of POST /campaigns/{id}/sends and /render: these sends are that step. */
export const SequenceStepSchema = z
  .object({
    id: SequenceIdSchema.openapi({ example: 'welcome' }),
    stepId: z.string().min(1).max(64).openapi({ example: 'day3' }),
  })
  .strict()
  .openapi({ description: 'Marks these sends as the step of a sequence (the step must be this campaign): each enrolled recipient moves past it once; sending it again changes nothing' })

export const SequenceStepReportSchema = z
  .object({
    id: z.string(),
    stepId: z.string(),
    marked: z.number().int().openapi({ description: 'Recipients this call moved past the step' }),
    alreadySent: z.array(z.string()),
    notEnrolled: z.array(z.string()),
    notActive: z.array(z.string()).openapi({ description: 'Enrolled but exited, completed or already past the step: the send is recorded, the step is not' }),
  })
  .openapi('SequenceStepReport')
