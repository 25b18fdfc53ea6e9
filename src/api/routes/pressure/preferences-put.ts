import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { setPreferences } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CategorySchema, jsonBody, security } from '../../schemas.js'
import { FrequencySchema, PreferencesSchema, RecipientIdParam } from './schemas.js'
import { toPreferences } from './to-response.js'

const route = createRoute({
  method: 'put',
  path: '/v1/recipients/{id}/preferences',
  operationId: 'putRecipientPreferences',
  tags: ['pressure'],
  summary: "Set a reader's preferences (what they chose elsewhere, e.g. in your own preference centre)",
  description:
    'Replaces the stored preferences. `categories`: category → wanted (false: never send this category; a category not named is wanted). `maxPerWindow`: at most `max` sends in `window` over every category but transactional (null or absent: none). Sends and renders honour them like caps (reason `preference`); suppression still wins. A change is recorded with source `api`.',
  security,
  request: {
    params: RecipientIdParam,
    body: jsonBody(
      z
        .object({
          categories: z.record(CategorySchema, z.boolean()).default({}).openapi({ example: { newsletter: true, promotion: false } }),
          maxPerWindow: FrequencySchema.nullable().optional().openapi({ example: { max: 1, window: 'P7D' } }),
        })
        .strict(),
    ),
  },
  responses: {
    200: { description: 'The stored preferences', content: { 'application/json': { schema: PreferencesSchema } } },
    ...errorResponses(400, 401, 415),
  },
})

export function registerPutPreferences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json')
    const prefs = await setPreferences(
      c.get('deps'),
      c.req.valid('param').id,
      { categories: body.categories, maxPerWindow: body.maxPerWindow ? { max: body.maxPerWindow.max, windowDays: body.maxPerWindow.window } : null },
      { source: 'api' },
    )
    return c.json(toPreferences(prefs), 200)
  })
}
