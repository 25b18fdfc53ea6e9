import { z } from '@hono/zod-openapi'
import { MAX_LOOKBACK_MS } from '../conversions/ingest.js'
import type { AppDeps } from '../deps.js'
import { getCampaign } from '../services/campaigns.js'
import { invalid } from '../util/errors.js'
import { DAY_MS, type AttributionOptions } from './attribution.js'
import type { EventWindow, Traffic } from './sql.js'

/*
 * The query parameters of the metrics, defined once: the API's routes validate and document them
 * (their OpenAPI schema), and the dashboard parses its forms with the same definitions.
 */

const isoInstant = (name: 'from' | 'to', example: string) =>
  z.iso.datetime({ offset: true }).optional().openapi({
    param: { name, in: 'query' },
    description:
      name === 'from'
        ? 'Only events at or after this instant (ISO-8601). With a retention configured (EVENT_RETENTION_DAYS …) the answer has `retention: {cutoff, partial, days}` (headers Sillage-Retention-Cutoff and -Partial when it is not a JSON object): everything from `cutoff` on is kept, and `partial` is true when this range begins before it (or has no beginning).'
        : 'Only events before this instant (ISO-8601)',
    example,
  })

export const TRAFFIC_DESCRIPTION =
  'human (default): people only; machine: Apple MPP and other proxy prefetches, link scanners, crawlers; all: both'

export const WindowQuery = z.object({
  from: isoInstant('from', '2026-11-23T00:00:00Z'),
  to: isoInstant('to', '2026-11-30T00:00:00Z'),
  traffic: z.enum(['human', 'machine', 'all']).default('human').openapi({ param: { name: 'traffic', in: 'query' }, description: TRAFFIC_DESCRIPTION }),
})

/** The window of a metrics request about one campaign: a bad window is a 400, then an unknown campaign a 404. */
export async function campaignWindow(deps: Pick<AppDeps, 'meta' | 'links'>, campaignId: string, q: Parameters<typeof toWindow>[0]): Promise<EventWindow> {
  const w = toWindow(q)
  await getCampaign(deps, campaignId)
  return w
}

/** from/to/traffic → the window the metrics take; from after to is a 400 naming query.from. */
export function toWindow(q: { from?: string | undefined; to?: string | undefined; traffic?: Traffic | undefined }, defaultTraffic: Traffic = 'human'): EventWindow {
  const from = q.from ? Date.parse(q.from) : undefined
  const to = q.to ? Date.parse(q.to) : undefined
  if (from !== undefined && to !== undefined && from > to) {
    throw invalid(`query.from: must not be after query.to (${q.from} > ${q.to})`)
  }
  return { traffic: q.traffic ?? defaultTraffic, from, to }
}

/** A query parameter given once, repeated, or comma-separated → its values. */
export const multiValue = (name: string, description: string, example: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)))
    .openapi({ param: { name, in: 'query' }, description, example })

const UNIT_MS = { d: DAY_MS, h: 3_600_000, m: 60_000 } as const

/** "7d", "36h", "90m" → milliseconds, at most `maxDays`. */
export function parseDuration(s: string, maxDays = 366): number | null {
  const m = /^(\d{1,6})([dhm])$/.exec(s)
  if (!m) return null
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  return ms > 0 && ms <= maxDays * DAY_MS ? ms : null
}

export const DurationSchema = (name: string, example: string, description: string, maxDays = 366) =>
  z
    .string()
    .transform((v, ctx) => {
      const ms = parseDuration(v, maxDays)
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `must be a duration like 7d, 36h or 90m (at most ${maxDays} days)` })
        return z.NEVER
      }
      return ms
    })
    .optional()
    .openapi({ param: { name, in: 'query' }, type: 'string', example, description })

export const AttributionQuery = WindowQuery.extend({
  attributionWindow: DurationSchema(
    'attributionWindow',
    '7d',
    "How far back a conversion without click id looks for the recipient's last touch (default 7d, at most 90d: ingest records touches up to 90 days back)",
    MAX_LOOKBACK_MS / DAY_MS,
  ),
  attribution: z.enum(['click', 'open']).default('click').openapi({
    param: { name: 'attribution', in: 'query' },
    description: "Touch a recipient-only conversion is credited to: the last click (default), or the last click or open",
  }),
})

export function toAttribution(q: z.infer<typeof AttributionQuery>): AttributionOptions {
  const w = toWindow(q)
  return { from: w.from, to: w.to, traffic: w.traffic, windowMs: q.attributionWindow, model: q.attribution }
}
