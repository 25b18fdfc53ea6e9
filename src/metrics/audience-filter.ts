import { z } from '@hono/zod-openapi'
import type { AppDeps } from '../deps.js'
import { listLinks } from '../services/campaigns.js'
import { resolveLinkRef } from '../services/link-refs.js'
import { describeIssues, invalid } from '../util/errors.js'
import { audience, CSV_COLUMNS, csvLine, type AudienceFilter, type AudienceRow } from './audience.js'
import { AttributionQuery, campaignWindow, DurationSchema, multiValue } from './query.js'
import type { EventWindow } from './sql.js'

/**
 * The filter parameters of an audience export, the one definition that both the REST endpoint
 * (GET /v1/campaigns/{id}/audience, through its route) and the dashboard's CSV download parse,
 * so the same parameters select the same people in both.
 */
export const AudienceQuery = AttributionQuery.extend({
  converted: z.enum(['true', 'false']).optional().openapi({
    param: { name: 'converted', in: 'query' },
    description: 'With (true) or without (false) a conversion attributed to this campaign (attributionWindow and attribution apply). With convertedWithin alone: true',
  }),
  convertedWithin: DurationSchema('convertedWithin', '7d', 'Only conversions at most this long after the recipient\'s send count: `clicked=LINK&converted=false&convertedWithin=7d` is "clicked but did not buy within a week"'),
  opened: z.enum(['true', 'false']).optional().openapi({ param: { name: 'opened', in: 'query' }, description: 'Opened (true) or never opened (false)' }),
  clicked: multiValue('clicked', 'Clicked this link: its id, its label or its position in the e-mail (`2` or `#2`) when that names one link only (repeatable or comma-separated: all of them)', 'hero'),
  notClicked: multiValue('notClicked', 'Did not click this link (id, label or position, as for clicked; repeatable or comma-separated: none of them)', 'Pz9aB2mK7xq0'),
  segment: z.string().max(128).optional().openapi({ param: { name: 'segment', in: 'query' }, example: 'vip' }),
  variant: z.string().max(64).optional().openapi({ param: { name: 'variant', in: 'query' }, example: 'B' }),
  // Not multiValue: an attribute value is the sender's data, commas and surrounding spaces included.
  attribute: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((a) => a !== ''))
    .openapi({
      param: { name: 'attribute', in: 'query' },
      description: 'NAME:VALUE, an attribute of the send, split at the first colon and compared exactly (spaces and commas are part of the value; repeatable: all of them)',
      example: 'country:FR',
    }),
})

export type AudienceParams = z.output<typeof AudienceQuery>

/** The query of a request as the route validator sees it: a parameter given once is a string, given more often an array. */
export type QueryInput = Record<string, string | string[]>

/**
 * AudienceQuery for callers that are not an OpenAPI route (the dashboard): the same schema, and a
 * refusal worded as the API's validation hook words it (`query.opened: …`).
 */
export function parseAudienceQuery(input: QueryInput): AudienceParams {
  const r = AudienceQuery.safeParse(input)
  if (!r.success) {
    const { message, details } = describeIssues('query', r.error.issues)
    throw invalid(message, details)
  }
  return r.data
}

/**
 * Parsed parameters → what the audience query takes: the window checked (400), then the campaign
 * (404), then the links, named by id, label or position (services/link-refs.ts), and the NAME:VALUE attributes (400 each).
 */
export async function audienceSelection(deps: Pick<AppDeps, 'meta' | 'links'>, campaignId: string, q: AudienceParams): Promise<{ filter: AudienceFilter; window: EventWindow }> {
  const window = await campaignWindow(deps, campaignId, q)
  const links = await listLinks(deps, campaignId)
  const clicked = q.clicked.map((ref) => resolveLinkRef(links, ref, 'query.clicked', campaignId))
  const notClicked = q.notClicked.map((ref) => resolveLinkRef(links, ref, 'query.notClicked', campaignId))
  const attributes = q.attribute.map((a) => {
    const i = a.indexOf(':')
    if (i <= 0) throw invalid(`query.attribute: expected NAME:VALUE, got ${JSON.stringify(a.slice(0, 80))}`)
    return { name: a.slice(0, i), value: a.slice(i + 1) }
  })
  const converted = q.converted === undefined ? (q.convertedWithin === undefined ? undefined : true) : q.converted === 'true'
  const filter: AudienceFilter = {
    opened: q.opened === undefined ? undefined : q.opened === 'true',
    clicked,
    notClicked,
    segment: q.segment,
    variant: q.variant,
    attributes,
    converted,
    convertedWithinMs: q.convertedWithin,
    attribution: { windowMs: q.attributionWindow, model: q.attribution },
  }
  return { filter, window }
}

/**
 * The matching recipients streamed as CSV (RFC 4180, with a header line) or NDJSON. The first row
 * is read before answering, so a query error is a proper error response and not a cut stream.
 */
export async function audienceResponse(
  deps: Pick<AppDeps, 'events'>,
  campaignId: string,
  sel: { filter: AudienceFilter; window: EventWindow },
  format: 'csv' | 'ndjson',
  /** CSV for people (the dashboard): clicked links by these names (label and position) instead of their ids. */
  linkNames?: ReadonlyMap<string, string>,
): Promise<Response> {
  const line = linkNames ? (r: AudienceRow) => csvLine({ ...r, clickedLinks: r.clickedLinks.map((l) => linkNames.get(l) ?? l) }) : csvLine
  return rowsResponse(audience(deps.events, campaignId, sel.filter, sel.window), { format, columns: CSV_COLUMNS, csvLine: line, filename: `${campaignId}-audience` })
}

/**
 * Rows streamed as CSV (the header line, then `csvLine` of each, which guards formulas: metrics/audience.ts
 * csvField) or NDJSON, pulled as the client reads. The first row is read before answering, so a
 * query error is a proper error response and not a cut stream.
 */
export async function rowsResponse<T extends object>(
  rows: AsyncGenerator<T>,
  o: { format: 'csv' | 'ndjson'; columns: readonly string[]; csvLine: (r: T) => string; filename: string },
): Promise<Response> {
  const first = await rows.next()
  const csv = o.format === 'csv'
  const encoder = new TextEncoder()
  const line = csv ? o.csvLine : (r: T) => JSON.stringify(r) + '\n'
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      if (csv) ctl.enqueue(encoder.encode(o.columns.join(',') + '\r\n'))
      if (first.done) ctl.close()
      else ctl.enqueue(encoder.encode(line(first.value)))
    },
    async pull(ctl) {
      const next = await rows.next()
      if (next.done) ctl.close()
      else ctl.enqueue(encoder.encode(line(next.value)))
    },
    async cancel() {
      await rows.return(undefined)
    },
  })
  const headers: Record<string, string> = { 'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson', 'cache-control': 'no-store' }
  if (csv) headers['content-disposition'] = `attachment; filename="${o.filename.replace(/[^A-Za-z0-9_-]/g, '_')}.csv"`
  return new Response(body, { status: 200, headers })
}
