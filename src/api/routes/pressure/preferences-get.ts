import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { getPreferences } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { PreferencesSchema, RecipientIdParam } from './schemas.js'
import { toPreferences } from './to-response.js'

const route = createRoute({
  method: 'get',
  path: '/v1/recipients/{id}/preferences',
  operationId: 'getRecipientPreferences',
  tags: ['pressure'],
  summary: "A reader's preferences: the categories they want and their own frequency",
  description: 'A category not named is wanted; `maxPerWindow` null means no frequency of their own; `updatedAt` null means they never chose.',
  security,
  request: { params: RecipientIdParam },
  responses: {
    200: { description: 'The preferences', content: { 'application/json': { schema: PreferencesSchema } } },
    ...errorResponses(400, 401),
  },
})

export function registerGetPreferences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(toPreferences(await getPreferences(c.get('deps'), c.req.valid('param').id)), 200))
}
