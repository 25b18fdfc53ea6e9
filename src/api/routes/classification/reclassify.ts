import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { reclassify } from '../../../classification/reclassify.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CampaignIdSchema, security } from '../../schemas.js'

const PerClass = z.object({ human: z.number().int(), machine_open: z.number().int(), scanner_click: z.number().int(), crawler: z.number().int() })

const route = createRoute({
  method: 'post',
  path: '/v1/admin/reclassify',
  operationId: 'reclassifyEvents',
  tags: ['admin'],
  summary: 'Recompute the class of stored events with the current rules',
  description:
    'Re-runs the edge rules on the stored signals (method, user agent, referer, prefetch hints) and then the after-the-fact pass (bursts, honeypot, too soon after send) for events with ts in [from, to]. The stored IP is anonymised: a stored scanner_ip (and apple_mpp on an open) reason is kept. Admin key only.',
  security,
  request: {
    body: {
      content: {
        'application/json': {
          schema: z
            .object({
              from: z.iso.datetime({ offset: true }).openapi({ example: '2026-11-01T00:00:00Z' }),
              to: z.iso.datetime({ offset: true }).openapi({ example: '2026-11-23T00:00:00Z' }),
              campaignId: CampaignIdSchema.optional(),
            })
            .strict(),
        },
      },
      required: true,
    },
  },
  responses: {
    200: {
      description: 'What changed',
      content: {
        'application/json': {
          schema: z
            .object({
              classifierVersion: z.number().int(),
              examined: z.number().int(),
              changed: z.number().int().openapi({ description: 'Events whose class, reasons, proxy or rules version changed' }),
              before: PerClass,
              after: PerClass,
              transitions: z.record(z.string(), z.number().int()).openapi({ description: 'Events whose class changed, by "old→new"', example: { 'human→scanner_click': 12 } }),
            })
            .openapi('ReclassifyResult'),
        },
      },
    },
    ...errorResponses(400, 401, 403),
  },
})

export function registerReclassify(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    if (c.get('apiKeyRole') !== 'admin') throw new ApiError('forbidden', 'reclassify needs an admin key (TRACKER_ADMIN_KEY or a key created with role "admin")')
    const body = c.req.valid('json')
    const from = Date.parse(body.from)
    const to = Date.parse(body.to)
    if (from > to) throw new ApiError('validation_failed', `body.from: must not be after body.to (${body.from} > ${body.to})`)
    const deps = c.get('deps')
    const r = await reclassify(deps, { from, to, campaignId: body.campaignId })
    deps.log.info('reclassified', { from: body.from, to: body.to, campaignId: body.campaignId, examined: r.examined, changed: r.changed })
    return c.json(r, 200)
  })
}
