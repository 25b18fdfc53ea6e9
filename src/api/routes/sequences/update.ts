import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { updateSequence } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { jsonBody, security } from '../../schemas.js'
import { ExitOnSchema, GoalInputSchema, SequenceIdParam, SequenceSchema, StepInputSchema, toSequence } from './schemas.js'

const route = createRoute({
  method: 'patch',
  path: '/v1/sequences/{id}',
  operationId: 'updateSequence',
  tags: ['sequences'],
  summary: 'Change a sequence',
  description:
    'New steps apply to what lies ahead of each enrolled recipient: an active recipient\'s next step becomes the first step whose offset is past the last step they were sent (or skipped), due at their entry plus that offset. ' +
    'Steps already sent are not sent again; a step inserted before a recipient\'s position is not sent to them; recipients with no step ahead complete. Completed recipients stay completed. ' +
    '`rescheduled` and `completed` count the active enrolments this changed. `goal: null` removes the goal.',
  security,
  request: {
    params: SequenceIdParam,
    body: jsonBody(
      z
        .object({
          name: z.string().min(1).max(200).optional(),
          steps: z.array(StepInputSchema).min(1).optional(),
          exitOn: ExitOnSchema.optional(),
          goal: GoalInputSchema.nullable().optional(),
        })
        .strict(),
    ),
  },
  responses: {
    200: {
      description: 'The sequence as changed',
      content: { 'application/json': { schema: SequenceSchema.extend({ rescheduled: z.number().int(), completed: z.number().int() }) } },
    },
    ...errorResponses(400, 401, 404, 415),
  },
})

export function registerUpdateSequence(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { rescheduled, completed, ...seq } = await updateSequence(c.get('deps'), c.req.valid('param').id, c.req.valid('json'))
    return c.json({ ...toSequence(seq), rescheduled, completed }, 200)
  })
}
