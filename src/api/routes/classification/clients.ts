import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { clientBreakdown } from '../../../classification/clients.js'
import { getCampaign } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { UNIQUES_NOTE } from '../metrics/common.js'
import { toWindow, WindowQuery } from '../../../metrics/query.js'

const Count = z.object({ total: z.number().int(), unique: z.number().int() })
const Entry = z.object({ name: z.string().openapi({ example: 'Outlook' }), opens: Count, clicks: Count }).openapi('ClientCounts')

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/clients',
  operationId: 'getClients',
  tags: ['metrics'],
  summary: 'Opens and clicks by mail client, OS and device type',
  description:
    'Parsed from each event\'s user agent when it was stored. Opens through a mail proxy (Gmail, Yahoo) name the proxy as the client and an unknown OS and device; Apple MPP opens are "Apple MPP". ' + UNIQUES_NOTE,
  security,
  request: { params: CampaignIdParam, query: WindowQuery },
  responses: {
    200: {
      description: 'Breakdown',
      content: {
        'application/json': {
          schema: z
            .object({
              campaignId: z.string(),
              traffic: z.enum(['human', 'machine', 'all']),
              clients: z.array(Entry),
              os: z.array(Entry),
              devices: z.array(Entry).openapi({ description: 'desktop | mobile | tablet | bot | unknown' }),
            })
            .openapi('ClientBreakdown'),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerClientBreakdown(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const w = toWindow(c.req.valid('query'))
    await getCampaign(deps, id)
    return c.json({ campaignId: id, traffic: w.traffic, ...(await clientBreakdown(deps.events, id, w)) }, 200)
  })
}
