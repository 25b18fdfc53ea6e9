import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { audience, CSV_COLUMNS, csvLine } from '../../../metrics/audience.js'
import { listLinks } from '../../../services/campaigns.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'
import { AttributionQuery, DurationSchema } from '../conversions/query.js'
import { campaignWindow, multiValue } from './common.js'

const Query = AttributionQuery.extend({
  converted: z.enum(['true', 'false']).optional().openapi({
    param: { name: 'converted', in: 'query' },
    description: 'With (true) or without (false) a conversion attributed to this campaign (attributionWindow and attribution apply). With convertedWithin alone: true',
  }),
  convertedWithin: DurationSchema('convertedWithin', '7d', 'Only conversions at most this long after the recipient\'s send count: `clicked=LINK&converted=false&convertedWithin=7d` is "clicked but did not buy within a week"'),
  opened: z.enum(['true', 'false']).optional().openapi({ param: { name: 'opened', in: 'query' }, description: 'Opened (true) or never opened (false)' }),
  clicked: multiValue('clicked', 'Clicked this link id (repeatable or comma-separated: all of them)', 'x7Kq2mB9aP0z'),
  notClicked: multiValue('notClicked', 'Did not click this link id (repeatable or comma-separated: none of them)', 'Pz9aB2mK7xq0'),
  segment: z.string().max(128).optional().openapi({ param: { name: 'segment', in: 'query' }, example: 'vip' }),
  variant: z.string().max(64).optional().openapi({ param: { name: 'variant', in: 'query' }, example: 'B' }),
  attribute: multiValue('attribute', 'NAME:VALUE, an attribute of the send (repeatable: all of them)', 'country:FR'),
})

const RowSchema = z
  .object({
    recipientId: z.string(),
    variant: z.string(),
    segments: z.array(z.string()),
    sentAt: z.string().nullable(),
    opened: z.boolean(),
    clicked: z.boolean(),
    opens: z.number().int(),
    clicks: z.number().int(),
    firstOpenAt: z.string().nullable(),
    firstClickAt: z.string().nullable(),
    clickedLinks: z.array(z.string()),
  })
  .openapi('AudienceRow', {
    example: { recipientId: 'dupond', variant: 'A', segments: ['vip'], sentAt: '2026-11-23T09:00:00.000Z', opened: true, clicked: false, opens: 2, clicks: 0, firstOpenAt: '2026-11-23T10:14:00.000Z', firstClickAt: null, clickedLinks: [] },
  })

const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/audience',
  tags: ['metrics'],
  summary: 'Recipients matching a filter, streamed (NDJSON or CSV), for re-targeting',
  description: `Starts from the sends, so recipients who did nothing are included (e.g. \`opened=false\` is "never opened"). Filters combine with AND; \`traffic\` (default human) decides which events count as an open or a click, so an Apple MPP prefetch alone is not "opened". One JSON object per line (application/x-ndjson, default) or CSV with \`Accept: text/csv\` (RFC 4180; columns ${CSV_COLUMNS.join(', ')}; lists joined with |; a cell starting with =, +, -, @, tab or CR gets a leading ' so spreadsheets do not run it as a formula), in recipient order. Invalid-token events are never attributed to anyone.`,
  security,
  request: { params: CampaignIdParam, query: Query },
  responses: {
    200: {
      description: 'The matching recipients, one per line',
      content: {
        'application/x-ndjson': { schema: RowSchema },
        'text/csv': { schema: z.string().openapi({ example: 'recipient_id,variant,segments,sent_at,opened,clicked,opens,clicks,first_open_at,first_click_at,clicked_links\r\ndupond,A,vip,2026-11-23T09:00:00.000Z,true,false,2,0,2026-11-23T10:14:00.000Z,,\r\n' }) },
      },
    },
    ...errorResponses(400, 401, 404),
  },
})

export function registerAudience(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const w = await campaignWindow(deps, id, q)
    const linkIds = new Set((await listLinks(deps, id)).map((l) => l.id))
    for (const [name, ids] of [['clicked', q.clicked], ['notClicked', q.notClicked]] as const) {
      const unknown = ids.find((l) => !linkIds.has(l))
      if (unknown !== undefined) throw new ApiError('validation_failed', `query.${name}: no link ${JSON.stringify(unknown.slice(0, 80))} in campaign ${id}`)
    }
    const attributes = q.attribute.map((a) => {
      const i = a.indexOf(':')
      if (i <= 0) throw new ApiError('validation_failed', `query.attribute: expected NAME:VALUE, got ${JSON.stringify(a.slice(0, 80))}`)
      return { name: a.slice(0, i), value: a.slice(i + 1) }
    })
    const csv = /\btext\/csv\b/i.test(c.req.header('accept') ?? '')
    const converted = q.converted === undefined ? (q.convertedWithin === undefined ? undefined : true) : q.converted === 'true'
    const filter = {
      opened: q.opened === undefined ? undefined : q.opened === 'true',
      clicked: q.clicked,
      notClicked: q.notClicked,
      segment: q.segment,
      variant: q.variant,
      attributes,
      converted,
      convertedWithinMs: q.convertedWithin,
      attribution: { windowMs: q.attributionWindow, model: q.attribution },
    }
    const rows = audience(deps.events, id, filter, w)
    // Pull the first row before answering, so a query error is a proper error response and not a cut stream.
    const first = await rows.next()
    const encoder = new TextEncoder()
    const line = csv ? csvLine : (r: object) => JSON.stringify(r) + '\n'
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        if (csv) ctl.enqueue(encoder.encode(CSV_COLUMNS.join(',') + '\r\n'))
        if (!first.done) ctl.enqueue(encoder.encode(line(first.value)))
        if (first.done) ctl.close()
      },
      async pull(ctl) {
        if (first.done) return
        const next = await rows.next()
        if (next.done) ctl.close()
        else ctl.enqueue(encoder.encode(line(next.value)))
      },
      async cancel() {
        await rows.return(undefined)
      },
    })
    const type = csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson'
    const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-store' }
    if (csv) headers['content-disposition'] = `attachment; filename="${id}-audience.csv"`
    return new Response(body, { status: 200, headers }) as never
  })
}
