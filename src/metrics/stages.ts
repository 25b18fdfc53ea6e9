import { invalid } from '../util/errors.js'

/**
 * The lifecycle stages and their thresholds, in one place: /v1/lifecycle, the transitions, the value
 * per stage and the purchases per stage all place a customer with these same rules.
 */
export const STAGES = ['new', 'active', 'lapsing', 'lapsed'] as const
export type Stage = (typeof STAGES)[number]

const DAY = 86_400_000

export interface StageThresholds {
  newDays: number
  activeDays: number
  lapsedDays: number
}

export const DEFAULT_THRESHOLDS: StageThresholds = { newDays: 30, activeDays: 90, lapsedDays: 180 }

/** The thresholds given, defaults for the rest; refused when the stages would overlap or vanish. */
export function stageThresholds(t: Partial<StageThresholds> = {}): StageThresholds {
  const out = {
    newDays: t.newDays ?? DEFAULT_THRESHOLDS.newDays,
    activeDays: t.activeDays ?? DEFAULT_THRESHOLDS.activeDays,
    lapsedDays: t.lapsedDays ?? DEFAULT_THRESHOLDS.lapsedDays,
  }
  if (out.activeDays >= out.lapsedDays) throw invalid(`query.activeDays: must be less than lapsedDays (${out.activeDays} >= ${out.lapsedDays})`)
  if (out.newDays > out.activeDays) throw invalid(`query.newDays: must not exceed activeDays (${out.newDays} > ${out.activeDays})`)
  return out
}

export function stageDefinitions(t: StageThresholds, at = 'asOf'): Record<Stage, string> {
  return {
    new: `first purchase less than ${t.newDays} days before ${at}`,
    active: `not new; last purchase less than ${t.activeDays} days before ${at}`,
    lapsing: `last purchase ${t.activeDays} to less than ${t.lapsedDays} days before ${at}`,
    lapsed: `last purchase ${t.lapsedDays} days or more before ${at}`,
  }
}

/** Query parameters of stageSql: the thresholds in ms. */
export function stageParams(t: StageThresholds): { newMs: number; activeMs: number; lapsedMs: number } {
  return { newMs: t.newDays * DAY, activeMs: t.activeDays * DAY, lapsedMs: t.lapsedDays * DAY }
}

/**
 * SQL of the stage at instant `at` (epoch ms) of a customer whose first purchase is `first` and last
 * purchase at or before `at` is `last` (both epoch ms, both at or before `at`). Binds {newMs}, {activeMs},
 * {lapsedMs} (stageParams). The stage's name, or with `codes` its place in STAGES plus one (1 = new …
 * 4 = lapsed): a number is far cheaper than a string where millions of stages are computed.
 */
export function stageSql(at: string, first: string, last: string, codes = false): string {
  const [n, a, l, d] = codes ? ['1', '2', '3', '4'] : STAGES.map((st) => `'${st}'`)
  return `multiIf(${at} - ${first} < {newMs:Int64}, ${n}, ${at} - ${last} < {activeMs:Int64}, ${a}, ${at} - ${last} < {lapsedMs:Int64}, ${l}, ${d})`
}

/**
 * The purchases CTE `orders(order_id, ts, recipient_id, amount, currency[, items])`: conversions of kind
 * {kind:String} with a recipient, at or before {now:String}, each order id once (its earliest row), from
 * the purchases table (migration 1210). `items` (the line items) only when asked: it is the widest column.
 */
export function ordersCte(db: string, opts: { items?: boolean } = {}): string {
  return `orders AS (
    SELECT order_id, ts, recipient_id, amount, currency${opts.items ? ', items' : ''} FROM ${db}.purchases FINAL
    WHERE kind = {kind:String} AND ts <= toDateTime64({now:String}, 3, 'UTC')
  )`
}
