import { z } from '@hono/zod-openapi'
import { DEFAULT_THRESHOLDS } from '../../../metrics/stages.js'

const days = (name: string, def: number, description: string) =>
  z.coerce.number().int().min(1).max(3650).default(def).openapi({ param: { name, in: 'query' }, example: def, description })

/** The stage thresholds, the same query parameters wherever stages are computed. */
export const StageQuery = z.object({
  newDays: days('newDays', DEFAULT_THRESHOLDS.newDays, 'new: first purchase less than this many days ago'),
  activeDays: days('activeDays', DEFAULT_THRESHOLDS.activeDays, 'active: last purchase less than this many days ago'),
  lapsedDays: days('lapsedDays', DEFAULT_THRESHOLDS.lapsedDays, 'lapsed: last purchase at least this many days ago (lapsing in between)'),
})

export const AtQuery = z.iso
  .datetime({ offset: true })
  .optional()
  .openapi({ param: { name: 'at', in: 'query' }, description: 'Compute as of this instant (default now)' })

export const PurchaseTypeQuery = z
  .string()
  .regex(/^[a-z0-9_-]{1,40}$/)
  .default('purchase')
  .openapi({ param: { name: 'type', in: 'query' }, description: 'Conversion type that counts as a purchase' })

/** An ISO 8601 duration in whole days or weeks (P90D, P4W) → days. */
export const HorizonQuery = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v, ctx) => {
      const m = /^P(\d{1,4})([DW])$/.exec(v)
      const n = m ? Number(m[1]) * (m[2] === 'W' ? 7 : 1) : 0
      if (!(n >= 1 && n <= 730)) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 duration in days or weeks (P30D, P4W), 1 to 730 days' })
        return z.NEVER
      }
      return n
    })
    .openapi({ param: { name: 'horizon', in: 'query' }, type: 'string', example: def, description: 'Length of a window, ISO 8601 days or weeks (P30D, P12W)' })

const Interval = { share: z.number(), low: z.number(), high: z.number() }

export const MatrixSchema = z.array(
  z.object({
    stage: z.enum(['new', 'active', 'lapsing', 'lapsed']),
    customers: z.number().int().openapi({ description: 'Customers in this stage at the start: the denominator of the shares' }),
    to: z.array(z.object({ stage: z.enum(['new', 'active', 'lapsing', 'lapsed']), count: z.number().int(), ...Interval })),
  }),
)

export const ThresholdsSchema = z.object({ newDays: z.number(), activeDays: z.number(), lapsedDays: z.number() })

/** The options every stage question shares, from its query: the instant (default now), the conversion type, the thresholds. */
export function stageOptions(q: { at?: string | undefined; type: string; newDays: number; activeDays: number; lapsedDays: number }, clock: () => number) {
  return { at: q.at ? Date.parse(q.at) : clock(), kind: q.type, newDays: q.newDays, activeDays: q.activeDays, lapsedDays: q.lapsedDays }
}
