import { z } from '@hono/zod-openapi'
import { canonicalTimeZone } from '../../../util/time-zone.js'

export const TzQuery = z
  .string()
  .default('UTC')
  .transform((tz, ctx) => {
    const zone = canonicalTimeZone(tz)
    if (zone === null) ctx.addIssue({ code: 'custom', message: 'unknown time zone (use an IANA name such as Europe/Paris)' })
    return zone ?? 'UTC'
  })
  .openapi({ param: { name: 'tz', in: 'query' }, description: 'IANA time zone of the buckets', example: 'Europe/Paris' })

export const IntervalSchema = z.object({ value: z.number(), low: z.number(), high: z.number() }).openapi('Interval')

export const RateSchema = z
  .object({ value: z.number(), numerator: z.number().int(), denominator: z.number().int(), definition: z.string() })
  .openapi('Rate')

export const UNIQUES_NOTE =
  'Unique counts are exact: per-recipient figures group by recipient id, and totals of uniques count distinct 64-bit CityHash values of the recipient id with uniqExact (no sampling or sketch; two ids collide with probability ≈ n²/2⁶⁵, about 3·10⁻⁸ for a million recipients). Events with an invalid token (no recipient) are counted in totals but never in uniques or any per-recipient figure.'
