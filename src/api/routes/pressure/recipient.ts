import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { recipientProfile } from '../../../services/recipient-profile.js'
import { toSuppressionResponse } from '../../../services/suppressions.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { SuppressionSchema } from '../senders/schemas.js'
import { EnrollmentSchema } from '../sequences/schemas.js'
import { AtQuery, PreferencesSchema, RecipientIdParam, StatusEnum } from './schemas.js'
import { toPreferences } from './to-response.js'

const route = createRoute({
  method: 'get',
  path: '/v1/recipients/{id}',
  operationId: 'getRecipient',
  tags: ['pressure'],
  summary: 'The person across campaigns: engagement status, last human open and click, recent sends, suppressions, preferences, sequences',
  description:
    'Status with the default thresholds of GET /v1/engagement (active 30 days, inactive 90 days, 3 sends), from human opens and clicks only. `engagement` is null for a person never sent anything. `sequences` lists every sequence they are in (active, completed or exited; a re-entry replaces the earlier entry), most recent entry first. 404 when no send, suppression, preference or sequence knows the id.',
  security,
  request: { params: RecipientIdParam, query: z.object({ at: AtQuery }) },
  responses: {
    200: {
      description: 'The person',
      content: {
        'application/json': {
          schema: z.object({
            recipientId: z.string(),
            at: z.string(),
            status: StatusEnum.nullable(),
            lastOpenAt: z.string().nullable(),
            lastClickAt: z.string().nullable(),
            lastSentAt: z.string().nullable(),
            sends: z.number().int().openapi({ description: 'Sends ever (one per campaign)' }),
            sendsLast30Days: z.array(z.object({ campaignId: z.string(), category: z.string(), sentAt: z.string() })),
            suppressions: z.array(SuppressionSchema),
            preferences: PreferencesSchema,
            sequences: z.array(
              z.object({
                sequenceId: z.string(),
                name: z.string(),
                status: EnrollmentSchema.shape.status,
                enteredAt: z.string(),
                lastStep: z.object({ stepId: z.string(), sentAt: z.string() }).nullable().openapi({ description: 'The last step sent; null before the first' }),
                next: z.object({ stepId: z.string(), dueAt: z.string() }).nullable().openapi({ description: 'The step due next; null unless active' }),
                exit: EnrollmentSchema.shape.exit.openapi({ description: 'Why and when they left; null unless exited' }),
              }),
            ),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerRecipientProfile(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const at = c.req.valid('query').at
    const p = await recipientProfile(deps, c.req.valid('param').id, at ? Date.parse(at) : deps.clock())
    return c.json(
      {
        recipientId: p.recipientId,
        at: p.at,
        status: p.engagement?.status ?? null,
        lastOpenAt: p.engagement?.lastOpenAt ?? null,
        lastClickAt: p.engagement?.lastClickAt ?? null,
        lastSentAt: p.engagement?.lastSentAt ?? null,
        sends: p.engagement?.sends ?? 0,
        sendsLast30Days: p.sendsLast30Days,
        suppressions: p.suppressions.map(toSuppressionResponse),
        preferences: toPreferences(p.preferences),
        sequences: p.sequences,
      },
      200,
    )
  })
}
