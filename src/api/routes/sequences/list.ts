import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listSequences } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { PageInfo, pageInfo, Pagination, security } from '../../schemas.js'
import { SequenceSchema, toSequence } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/sequences',
  operationId: 'listSequences',
  tags: ['sequences'],
  summary: 'List sequences, oldest first',
  security,
  request: { query: Pagination },
  responses: {
    200: { description: 'A page of sequences', content: { 'application/json': { schema: z.object({ sequences: z.array(SequenceSchema), ...PageInfo }) } } },
    ...errorResponses(400, 401),
  },
})

export function registerListSequences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const { rows, total } = await listSequences(c.get('deps'), q)
    return c.json({ sequences: rows.map(toSequence), ...pageInfo(q, total) }, 200)
  })
}
