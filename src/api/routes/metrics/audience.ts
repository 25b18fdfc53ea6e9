import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { CSV_COLUMNS } from '../../../metrics/audience.js'
import { AudienceQuery, audienceResponse, audienceSelection } from '../../../metrics/audience-filter.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, security } from '../../schemas.js'

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
  operationId: 'getAudience',
  tags: ['metrics'],
  summary: 'Recipients matching a filter, streamed (NDJSON or CSV), for re-targeting',
  description: `Starts from the sends, so recipients who did nothing are included (e.g. \`opened=false\` is "never opened"). Filters combine with AND; \`traffic\` (default human) decides which events count as an open or a click, so an Apple MPP prefetch alone is not "opened". One JSON object per line (application/x-ndjson, default) or CSV with \`Accept: text/csv\` (RFC 4180; columns ${CSV_COLUMNS.join(', ')}; lists joined with |; a cell starting with =, +, -, @, tab, CR or LF, or with spaces or line breaks before one of =, +, -, @, gets a leading ' so spreadsheets do not run it as a formula; cells with ; are quoted), in recipient order. Invalid-token events are never attributed to anyone.`,
  security,
  request: { params: CampaignIdParam, query: AudienceQuery },
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
    const selection = await audienceSelection(deps, id, c.req.valid('query'))
    const csv = /\btext\/csv\b/i.test(c.req.header('accept') ?? '')
    return (await audienceResponse(deps, id, selection, csv ? 'csv' : 'ndjson')) as never
  })
}
