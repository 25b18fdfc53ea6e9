import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { preferenceStats } from '../../../services/pressure.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { multiValue } from '../../../metrics/query.js'

const route = createRoute({
  method: 'get',
  path: '/v1/pressure/preferences',
  operationId: 'getPreferenceStats',
  tags: ['pressure'],
  summary: 'Per campaign: readers who chose fewer mails on its page, apart from those who unsubscribed',
  description:
    "From each campaign's reader page: readers who changed their preferences there, those of them who asked for less mail (a category turned off, a lower frequency) rather than leaving, and readers who unsubscribed from everything from that campaign (page or one-click). Changes made through the API are not counted here.",
  security,
  request: { query: z.object({ campaignId: multiValue('campaignId', 'Only these campaigns (repeatable or comma-separated; default: every campaign with a change or an unsubscribe)', 'spring') }) },
  responses: {
    200: {
      description: 'Per campaign',
      content: {
        'application/json': {
          schema: z.object({
            campaigns: z.array(z.object({ campaignId: z.string(), readersChangedPreferences: z.number().int(), readersChoseFewer: z.number().int(), readersUnsubscribed: z.number().int() })),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

export function registerPreferenceStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const ids = c.req.valid('query').campaignId
    return c.json({ campaigns: await preferenceStats(c.get('deps'), ids.length ? ids : undefined) }, 200)
  })
}
