import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listRules } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { RuleSchema } from './schemas.js'
import { toRule } from './to-response.js'

const route = createRoute({
  method: 'get',
  path: '/v1/pressure/rules',
  operationId: 'listPressureRules',
  tags: ['pressure'],
  summary: 'The caps in force',
  security,
  responses: {
    200: { description: 'Every rule, oldest first', content: { 'application/json': { schema: z.object({ rules: z.array(RuleSchema) }) } } },
    ...errorResponses(401),
  },
})

export function registerListRules(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json({ rules: (await listRules(c.get('deps'))).map(toRule) }, 200))
}
