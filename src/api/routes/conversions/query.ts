import { z } from '@hono/zod-openapi'
import { MAX_LOOKBACK_MS } from '../../../conversions/ingest.js'
import { DAY_MS, type AttributionOptions } from '../../../metrics/conversions.js'
import { toWindow, WindowQuery } from '../metrics/common.js'

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
