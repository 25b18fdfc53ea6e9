import { z } from '@hono/zod-openapi'
import type { AppDeps } from '../../context.js'
import { ApiError } from '../../errors.js'
import { getCampaign } from '../../../services/campaigns.js'
import type { EventWindow, Traffic } from '../../../metrics/sql.js'

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

/**
 * An IANA time zone as ClickHouse spells it, or null when Intl does not know it. Intl accepts
 * any case (`europe/paris`) while ClickHouse's names are case-sensitive: the canonical name
 * Intl resolves to is what the queries get. Checked once per string.
 */
const knownZones = new Map<string, string | null>()
export function canonicalTimeZone(tz: string): string | null {
  let zone = knownZones.get(tz)
  if (zone === undefined) {
    zone = null
    if (/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) {
      try {
        zone = new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone
      } catch {
        /* unknown */
      }
    }
    if (knownZones.size < 1000) knownZones.set(tz, zone)
  }
  return zone
}

export const TzQuery = z
  .string()
  .default('UTC')
  .transform((tz, ctx) => {
    const zone = canonicalTimeZone(tz)
    if (zone === null) ctx.addIssue({ code: 'custom', message: 'unknown time zone (use an IANA name such as Europe/Paris)' })
    return zone ?? 'UTC'
  })
  .openapi({ param: { name: 'tz', in: 'query' }, description: 'IANA time zone of the buckets', example: 'Europe/Paris' })

/** The window of a metrics request about one campaign: a bad window is a 400, then an unknown campaign a 404. */
export async function campaignWindow(deps: AppDeps, campaignId: string, q: Parameters<typeof toWindow>[0]): Promise<EventWindow> {
  const w = toWindow(q)
  await getCampaign(deps, campaignId)
  return w
}

/** from/to/traffic → the window the metrics take; from after to is a 400 naming query.from. */
export function toWindow(q: { from?: string | undefined; to?: string | undefined; traffic?: Traffic | undefined }, defaultTraffic: Traffic = 'human'): EventWindow {
  const from = q.from ? Date.parse(q.from) : undefined
  const to = q.to ? Date.parse(q.to) : undefined
  if (from !== undefined && to !== undefined && from > to) {
    throw new ApiError('validation_failed', `query.from: must not be after query.to (${q.from} > ${q.to})`)
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

export const IntervalSchema = z.object({ value: z.number(), low: z.number(), high: z.number() }).openapi('Interval')

export const RateSchema = z
  .object({ value: z.number(), numerator: z.number().int(), denominator: z.number().int(), definition: z.string() })
  .openapi('Rate')

export const UNIQUES_NOTE =
  'Unique counts are exact: per-recipient figures group by recipient id, and totals of uniques count distinct 64-bit CityHash values of the recipient id with uniqExact (no sampling or sketch; two ids collide with probability ≈ n²/2⁶⁵, about 3·10⁻⁸ for a million recipients). Events with an invalid token (no recipient) are counted in totals but never in uniques or any per-recipient figure.'
