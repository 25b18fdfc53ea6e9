import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { deleteRule } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { RuleSchema } from './schemas.js'
import { toRule } from './to-response.js'

const route = createRoute({
  method: 'delete',
  path: '/v1/pressure/rules/{id}',
  operationId: 'deletePressureRule',
  tags: ['pressure'],
  summary: 'Remove a cap',
  security,
  request: { params: z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'pr_x7Kq2mB9aP0z' }) }) },
  responses: {
    200: { description: 'The rule removed', content: { 'application/json': { schema: RuleSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerDeleteRule(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(toRule(await deleteRule(c.get('deps'), c.req.valid('param').id)), 200))
}
