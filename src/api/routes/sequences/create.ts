import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { createSequence } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { ExitOnSchema, GoalInputSchema, SequenceIdSchema, SequenceSchema, StepInputSchema, toSequence } from './schemas.js'

const route = createRoute({
  method: 'post',
  path: '/v1/sequences',
  operationId: 'createSequence',
  tags: ['sequences'],
  summary: 'Create a sequence (a drip series of existing campaigns)',
  description:
    'Each step is an existing campaign sent at an ISO-8601 offset after the recipient\'s entry. Step ids are unique, each campaign is used by one step, offsets increase strictly. ' +
    '`goal` defines converted (a conversion of `type` within `within` of entry); `exitOn` says what makes a recipient leave.',
  security,
  request: {
    body: jsonBody(
      z
        .object({
          id: SequenceIdSchema.optional().openapi({ example: 'welcome' }),
          name: z.string().min(1).max(200).openapi({ example: 'Welcome series' }),
          steps: z.array(StepInputSchema).min(1),
          exitOn: ExitOnSchema.optional(),
          goal: GoalInputSchema.optional(),
        })
        .strict(),
    ),
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: SequenceSchema } } },
    ...errorResponses(400, 401, 409, 415),
  },
})

export function registerCreateSequence(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(toSequence(await createSequence(c.get('deps'), c.req.valid('json'))), 201))
}
