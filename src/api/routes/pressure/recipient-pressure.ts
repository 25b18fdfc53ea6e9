import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { recipientPressure } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { AtQuery, RecipientIdParam, windowQuery } from './schemas.js'

const route = createRoute({
  method: 'get',
  path: '/v1/recipients/{id}/pressure',
  operationId: 'getRecipientPressure',
  tags: ['pressure'],
  summary: "One person's sends in a window, by campaign and category, and where each cap stands",
  security,
  request: { params: RecipientIdParam, query: z.object({ window: windowQuery('window', 'P30D', 'The window'), at: AtQuery }) },
  responses: {
    200: {
      description: 'Their pressure',
      content: {
        'application/json': {
          schema: z.object({
            recipientId: z.string(),
            at: z.string(),
            window: z.string(),
            total: z.number().int(),
            byCategory: z.record(z.string(), z.number().int()).openapi({ description: "Sends per category ('' for campaigns without one)" }),
            sends: z.array(z.object({ campaignId: z.string(), category: z.string(), sentAt: z.string() })),
            caps: z.array(
              z.object({
                source: z.enum(['rule', 'preference']),
                ruleId: z.string().nullable(),
                max: z.number().int(),
                window: z.string(),
                category: z.string().nullable(),
                sends: z.number().int(),
                reached: z.boolean(),
                eligibleAt: z.string().nullable(),
              }),
            ),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerRecipientPressure(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    return c.json(await recipientPressure(deps, c.req.valid('param').id, { at: q.at ? Date.parse(q.at) : deps.clock(), windowDays: q.window }), 200)
  })
}
