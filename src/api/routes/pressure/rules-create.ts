import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { createRule } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CategorySchema, jsonBody, security } from '../../schemas.js'
import { RuleSchema, WindowSchema } from './schemas.js'
import { toRule } from './to-response.js'

const route = createRoute({
  method: 'post',
  path: '/v1/pressure/rules',
  operationId: 'createPressureRule',
  tags: ['pressure'],
  summary: 'Add a cap: at most max sends in window, over a category or every category',
  description:
    'At most `max` sends to one recipient within `window` (ISO-8601 days or weeks: P7D, P30D, P2W), counting the campaigns of `category`, or of every category but transactional when no category is given. Sends and renders of a campaign the rule covers then skip (or reject, see their `pressure`) the recipients who reached it. Transactional campaigns are never capped nor counted.',
  security,
  request: {
    body: jsonBody(
      z
        .object({
          max: z.number().int().min(1).max(1000).openapi({ example: 3 }),
          window: WindowSchema,
          category: CategorySchema.optional().openapi({ example: 'promotion' }),
        })
        .strict(),
    ),
  },
  responses: {
    201: { description: 'The rule', content: { 'application/json': { schema: RuleSchema } } },
    ...errorResponses(400, 401, 415),
  },
})

export function registerCreateRule(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json')
    const rule = await createRule(c.get('deps'), { max: body.max, windowDays: body.window, category: body.category })
    return c.json(toRule(rule), 201)
  })
}
