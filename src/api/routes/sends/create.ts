import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { getCampaign, listLinks } from '../../../services/campaigns.js'
import { recordSends, recordSendsUnlessSuppressed, trackedUrls } from '../../../services/sends.js'
import { trackingBaseUrl } from '../../../services/domains.js'
import { arrayLimit } from '../../body-guard.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CampaignIdParam, EventTimeSchema, jsonBody, security } from '../../schemas.js'
import { PressureModeSchema, PressureReportSchema } from '../pressure/schemas.js'
import { OnSuppressedSchema, SuppressedReportSchema } from '../senders/schemas.js'
import { SequenceStepReportSchema, SequenceStepSchema } from '../sequences/step-schema.js'

export const MAX_RECIPIENTS_PER_CALL = 10_000

/** 413 past the per-call limit, before any work: the caller splits the list. */
export function checkRecipientCount(n: number): void {
  if (n > MAX_RECIPIENTS_PER_CALL) throw new ApiError('payload_too_large', `at most ${MAX_RECIPIENTS_PER_CALL} recipients per call, got ${n}: split the list`)
}

export const RecipientSchema = z
  .object({
    id: z.string().min(1).max(256).openapi({ example: 'cust-42' }),
    variant: z.string().max(64).optional().openapi({ example: 'B' }),
    segments: z.array(z.string().min(1).max(128)).max(64).optional().openapi({ example: ['vip', 'fr'] }),
    attributes: z.record(z.string().min(1).max(128), z.string().max(1024)).optional().openapi({ example: { country: 'FR' } }),
  })
  .strict()
  .openapi('Recipient')

/** A recipient of POST /sends, which alone records holdouts (a render always mails). */
const SendRecipientSchema = RecipientSchema.extend({
  holdout: z.boolean().optional().openapi({ description: 'Held out, NOT mailed: recorded apart as the control group of the campaign\'s lift (lifecycle transitions), never counted as sent, no tracked URLs' }),
})
  .strict()
  .openapi('SendRecipient')

export const TrackedRecipientSchema = z
  .object({
    id: z.string(),
    token: z.string(),
    pixelUrl: z.string(),
    links: z.array(z.object({ id: z.string(), url: z.string() })),
  })
  .openapi('TrackedRecipient')

const route = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/sends',
  operationId: 'createSends',
  tags: ['sends'],
  summary: 'Record sends and get each recipient\'s tracked URLs',
  description: `Up to ${MAX_RECIPIENTS_PER_CALL} recipients a call (more: 413). Sending again to a recipient replaces the earlier send. Suppressed recipients are skipped by default and listed under "suppressed" (see onSuppressed); then recipients held back by pressure rules or their own preferences are skipped and listed under "pressure" (see pressure).`,
  security,
  request: {
    params: CampaignIdParam,
    body: jsonBody(
      z
        .object({
          recipients: z.array(SendRecipientSchema).min(1),
          sentAt: EventTimeSchema.optional().openapi({ example: '2026-11-23T09:00:00Z' }),
          onSuppressed: OnSuppressedSchema,
          pressure: PressureModeSchema,
          sequence: SequenceStepSchema.optional(),
        })
        .strict(),
    ),
  },
  responses: {
    201: {
      description: 'Sends recorded',
      content: {
        'application/json': {
          schema: z.object({
            campaignId: z.string(),
            recipients: z.array(TrackedRecipientSchema),
            suppressed: SuppressedReportSchema,
            pressure: PressureReportSchema,
            sequence: SequenceStepReportSchema.optional(),
            holdouts: z.number().int().openapi({ description: 'Recipients recorded as held out (holdout: true): not mailed, not in recipients' }),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404, 409, 413, 415),
  },
})

/** Counted before the schema validates the list (see arrayLimit). */
export const recipientLimit = () => arrayLimit('recipients', MAX_RECIPIENTS_PER_CALL, (n) => `at most ${MAX_RECIPIENTS_PER_CALL} recipients per call, got ${n}: split the list`)

export function registerCreateSends(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    checkRecipientCount(body.recipients.length)
    const campaign = await getCampaign(deps, id)
    const sentAt = body.sentAt ? new Date(body.sentAt) : undefined
    // Held-out recipients are not mailed: no suppression check, no pressure, no send row.
    const held = body.recipients.filter((r) => r.holdout)
    const { kept, report, pressure, sequence } = await recordSendsUnlessSuppressed(deps, id, body.recipients.filter((r) => !r.holdout), {
      onSuppressed: body.onSuppressed,
      pressure: body.pressure,
      sentAt,
      refused: 'nothing recorded',
      sequence: body.sequence,
    })
    await recordSends(deps, id, held, sentAt, 'holdouts')
    const [links, base] = await Promise.all([listLinks(deps, id), trackingBaseUrl(deps, campaign.settings)])
    return c.json({ campaignId: id, recipients: kept.map((r) => trackedUrls(deps, id, r.id, links, base)), suppressed: report, pressure, holdouts: held.length, ...(sequence ? { sequence } : {}) }, 201)
  })
}
