import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { prepareRender } from '../../../services/render.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { CampaignIdParam, EventTimeSchema, jsonBody, security } from '../../schemas.js'
import { checkRecipientCount, MAX_RECIPIENTS_PER_CALL, RecipientSchema } from '../sends/create.js'
import { PressureModeSchema, PressureReportSchema } from '../pressure/schemas.js'
import { OnSuppressedSchema, SuppressedReportSchema } from './schemas.js'
import { SequenceStepReportSchema, SequenceStepSchema } from '../sequences/step-schema.js'

const HeadersSchema = z.object({
  'List-Unsubscribe': z.string().openapi({ example: '<https://t.example.com/u/spring/Y3VzdC00Mg.AbCdEfGhIjKlMnOp>' }),
  'List-Unsubscribe-Post': z.literal('List-Unsubscribe=One-Click'),
})

const RenderedSchema = z
  .object({
    id: z.string(),
    html: z.string(),
    text: z.string().nullable(),
    headers: HeadersSchema,
    suppressed: z.object({ scope: z.string(), reason: z.string() }).optional(),
  })
  .openapi('RenderedRecipient')

/** About 256 KB a write: few enough writes to be cheap, small enough to keep memory flat. */
const STREAM_CHUNK_CHARS = 256 * 1024

/** Header values are bounded; past this the suppressed ids are only in the JSON answer or the summary line. */
const MAX_HEADER_IDS_BYTES = 4096

const route = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/render',
  operationId: 'renderTemplate',
  tags: ['senders'],
  summary: 'Render a compiled template for each recipient, and record the sends',
  description:
    `Up to ${MAX_RECIPIENTS_PER_CALL} recipients a call (more: 413). Uses the campaign's latest template unless templateId is given. ` +
    'Each recipient gets the final HTML and text with their tracked URLs, and the List-Unsubscribe / List-Unsubscribe-Post header values (RFC 2369, RFC 8058) to put on the message. ' +
    'The answer is streamed as it renders. With `Accept: application/x-ndjson` it is one recipient object per line; the suppression report is then in the ' +
    '`Sillage-Suppressed-Count` and `Sillage-Suppressed` (comma-separated, percent-encoded ids, omitted past 4 KB) headers, the pressure report\'s count in `Sillage-Pressure-Count`, and `?summary=true` adds a last line `{"summary": {...}}` with both reports.',
  security,
  request: {
    params: CampaignIdParam,
    query: z.object({ summary: z.enum(['true', 'false']).optional() }),
    body: jsonBody(
      z
        .object({
          templateId: z.string().min(1).max(64).optional(),
          recipients: z.array(RecipientSchema).min(1),
          sentAt: EventTimeSchema.optional(),
          onSuppressed: OnSuppressedSchema,
          pressure: PressureModeSchema,
          sequence: SequenceStepSchema.optional(),
          unsubscribeMailto: z.string().min(3).max(500).optional().openapi({
            description: 'Adds <mailto:…> after the HTTPS URL in List-Unsubscribe, for mail clients without one-click',
            example: 'unsubscribe@news.example.com',
          }),
        })
        .strict(),
    ),
  },
  responses: {
    200: {
      description: 'Rendered messages (JSON, or NDJSON with Accept: application/x-ndjson)',
      content: {
        'application/json': { schema: z.object({ campaignId: z.string(), templateId: z.string(), recipients: z.array(RenderedSchema), suppressed: SuppressedReportSchema, pressure: PressureReportSchema, sequence: SequenceStepReportSchema.optional() }) },
        'application/x-ndjson': { schema: RenderedSchema },
      },
    },
    ...errorResponses(400, 401, 404, 409, 413, 415),
  },
})

export function registerRender(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const { summary } = c.req.valid('query')
    checkRecipientCount(body.recipients.length)
    const r = await prepareRender(deps, id, { ...body, sentAt: body.sentAt ? new Date(body.sentAt) : undefined })
    const ndjson = /application\/x-ndjson/i.test(c.req.header('accept') ?? '')
    c.header('Cache-Control', 'no-store')
    if (ndjson) {
      c.header('Content-Type', 'application/x-ndjson; charset=utf-8')
      c.header('Sillage-Suppressed-Count', String(r.report.count))
      const ids = r.report.recipients.map((s) => encodeURIComponent(s.id)).join(',')
      if (ids && ids.length <= MAX_HEADER_IDS_BYTES) c.header('Sillage-Suppressed', ids)
      c.header('Sillage-Pressure-Count', String(r.pressure.count))
    } else {
      c.header('Content-Type', 'application/json; charset=utf-8')
    }
    // Pulled by the socket: a batch is rendered only when the previous one has been taken, so a
    // slow reader slows the render and memory stays at one batch however long the list.
    const lines = r.lines()
    let first = true
    let opened = false
    const encoder = new TextEncoder()
    const out = new ReadableStream<Uint8Array>({
      pull(controller) {
        let chunk = ''
        if (!opened) {
          opened = true
          if (!ndjson) chunk = `{"campaignId":${JSON.stringify(id)},"templateId":${JSON.stringify(r.template.id)},"recipients":[`
        }
        while (chunk.length < STREAM_CHUNK_CHARS) {
          const next = lines.next()
          if (next.done) {
            if (ndjson) {
              if (summary === 'true') chunk += JSON.stringify({ summary: { templateId: r.template.id, rendered: r.count, suppressed: r.report, pressure: r.pressure, ...(r.sequence ? { sequence: r.sequence } : {}) } }) + '\n'
            } else chunk += `],"suppressed":${JSON.stringify(r.report)},"pressure":${JSON.stringify(r.pressure)}${r.sequence ? `,"sequence":${JSON.stringify(r.sequence)}` : ''}}`
            if (chunk) controller.enqueue(encoder.encode(chunk))
            controller.close()
            return
          }
          chunk += ndjson ? next.value + '\n' : first ? next.value : ',' + next.value
          first = false
        }
        controller.enqueue(encoder.encode(chunk))
      },
    })
    return c.body(out) as never
  })
}
