import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { enrollmentCounts, getSequence } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { SequenceIdParam, SequenceSchema, toSequence } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/sequences/{id}',
  operationId: 'getSequence',
  tags: ['sequences'],
  summary: 'Get a sequence and its enrolments by status',
  security,
  request: { params: SequenceIdParam },
  responses: {
    200: {
      description: 'The sequence',
      content: { 'application/json': { schema: SequenceSchema.extend({ enrollments: z.object({ active: z.number().int(), completed: z.number().int(), exited: z.number().int() }) }) } },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerGetSequence(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const seq = await getSequence(deps, id)
    return c.json({ ...toSequence(seq), enrollments: await enrollmentCounts(deps, id) }, 200)
  })
}
