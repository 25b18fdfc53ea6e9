import { z } from '@hono/zod-openapi'
import { EVENT_TYPES } from '../../../outbox/envelopes.js'
import { CampaignIdSchema } from '../../schemas.js'

export const WebhookIdParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, example: 'wh_3kTq9vXh2mBn8pLw' }) })

export const EventTypeSchema = z.enum(EVENT_TYPES)

export const BatchSchema = z
  .object({
    maxEvents: z.number().int().min(1).max(1000).openapi({ description: 'Events per request at most', example: 100 }),
    maxWaitMs: z.number().int().min(0).max(600_000).openapi({ description: 'How long a partial batch waits for more events', example: 1000 }),
  })
  .strict()

export const WebhookInput = z
  .object({
    url: z.string().min(1).max(2048).openapi({ example: 'https://crm.example/hooks/sillage' }),
    events: z.array(EventTypeSchema).min(1).openapi({ example: ['email.clicked', 'conversion.created'] }),
    campaignIds: z.array(CampaignIdSchema).max(1000).optional().openapi({ description: 'Only these campaigns (default: all)' }),
    traffic: z.enum(['human', 'machine', 'all']).optional().openapi({ description: 'Which opens and clicks (default human): machine traffic is labelled, never delivered as human' }),
    settle: z.enum(['verdict', 'edge']).optional().openapi({
      description: 'verdict (default): opens and clicks go out once the second classification pass has judged them; edge: at once, a later change arrives as email.reclassified',
    }),
    batch: BatchSchema.nullable().optional().openapi({ description: 'Several events per request ({id, type: "batch", timestamp, data: [envelopes]}); null: one per request' }),
    description: z.string().max(500).optional(),
  })
  .strict()

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    campaignIds: z.array(z.string()),
    traffic: z.enum(['human', 'machine', 'all']),
    settle: z.enum(['verdict', 'edge']),
    batch: BatchSchema.nullable(),
    description: z.string(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    failingSince: z.string().nullable(),
    secondSecretUntil: z.string().nullable().openapi({ description: 'After a rotation, the old secret also signs until then' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Webhook')

export const WebhookWithSecret = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret (Standard Webhooks); shown only now', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
}).openapi('WebhookWithSecret')

export const DeliverySchema = z
  .object({
    id: z.string(),
    msgId: z.string().openapi({ description: 'The webhook-id header: the event id, or the batch id' }),
    type: z.string(),
    eventIds: z.array(z.string()),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    responseExcerpt: z.string().nullable().openapi({ description: 'First KiB of the last failed response' }),
    nextAttemptAt: z.string().nullable(),
    replay: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('WebhookDelivery')
