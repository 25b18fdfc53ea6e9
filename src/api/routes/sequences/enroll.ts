import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { enroll, MAX_ENROLLMENTS_PER_CALL } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { RecipientSchema } from '../sends/create.js'
import { SequenceIdParam } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/sequences/{id}/enrollments',
  operationId: 'enrollInSequence',
  tags: ['sequences'],
  summary: 'Enrol recipients',
  description:
    `Up to ${MAX_ENROLLMENTS_PER_CALL} recipients a call (more: 413), all or nothing. Idempotent per recipient: one already enrolled (active, completed or exited) is listed under unchanged, ` +
    'unless `reenter: true`, which starts their entry again from the first step. Erased and globally suppressed (unsubscribed, bounced…) recipients are not enrolled: they are listed under skipped with the reason. ' +
    '`enteredAt` (default now) is the base of every step offset; variant, segments and attributes come back with `due`.',
  security,
  request: {
    params: SequenceIdParam,
    body: jsonBody(
      z
        .object({
          recipients: z.array(RecipientSchema.extend({ enteredAt: z.iso.datetime({ offset: true }).optional().openapi({ example: '2026-11-23T09:00:00Z' }) }).strict()).min(1),
          reenter: z.boolean().default(false),
        })
        .strict(),
    ),
  },
  responses: {
    200: {
      description: 'What was done for each recipient',
      content: {
        'application/json': {
          schema: z.object({
            enrolled: z.number().int(),
            reentered: z.number().int(),
            unchanged: z.array(z.string()),
            skipped: z.object({ count: z.number().int(), recipients: z.array(z.object({ id: z.string(), reason: z.enum(['erased', 'unsubscribed', 'suppressed']) })) }),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404, 413, 415),
  },
})

export function registerEnroll(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json')
    const recipients = body.recipients.map((r) => ({ ...r, enteredAt: r.enteredAt ? new Date(r.enteredAt) : undefined }))
    return c.json(await enroll(c.get('deps'), c.req.valid('param').id, recipients, { reenter: body.reenter }), 200)
  })
}
