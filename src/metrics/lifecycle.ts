import { chDateTime, type EventStore, queryRows } from '../store/clickhouse.js'
import { fromUnits, inCurrency, revenueInCurrency, toUnits } from '../conversions/money.js'
import { DAY_MS, type Revenue } from './attribution.js'
import { ordersCte, STAGES, stageDefinitions, stageParams, stageSql, stageThresholds, type Stage, type StageThresholds } from './stages.js'

export { STAGES, type Stage } from './stages.js'

export interface LifecycleOptions {
  /** The instant the figures are computed at (epoch ms). */
  now: number
  /** Conversion kind that counts as a purchase (default purchase). */
  kind?: string
  /** Currency of the top-level revenue share (default: the one with the most orders). */
  currency?: string | undefined
  newDays?: number
  activeDays?: number
  lapsedDays?: number
  /** Only customers whose first purchase is at least this old estimate the lapse day (default 365). */
  horizonDays?: number
  /** The lapse day is the first where P(second purchase | none yet) falls below this (default 0.5). */
  lapseProbability?: number
}

const REVENUE_WINDOW_DAYS = 30

export const LIFECYCLE_METHOD = {
  customer: 'A customer is a recipient id with at least one purchase (conversion of the given type, each order id once) at or before asOf.',
  revenueShare:
    "Share of purchase revenue from each customer's first order (firstPurchase) and from every later order (repeat), in one currency; other currencies in revenueShareByCurrency.",
  timeToSecondPurchase:
    'Days from first to second purchase among customers with two or more; quantiles by linear interpolation between order statistics (Hyndman–Fan type 7).',
  lapse:
    'Among customers whose first purchase is at least horizonDays before asOf (all observed as long), p(d) = share of those without a second purchase ' +
    'within d days who make one within horizonDays; lapseAfterDays is the smallest whole d with p(d) < threshold: past it, a first-time buyer is more ' +
    'likely never to buy again (within the horizon) than to return. Null when no customer is observed long enough.',
}

export interface Lifecycle {
  asOf: string
  customers: number
  orders: number
  revenueShare: { currency: string | null; firstPurchase: number; repeat: number; revenue: { firstPurchase: string; repeat: string }; method: string }
  revenueShareByCurrency: Record<string, { firstPurchase: number; repeat: number; revenue: { firstPurchase: string; repeat: string } }>
  timeToSecondPurchase: { customers: number; median: number | null; p25: number | null; p75: number | null; p90: number | null; method: string }
  lapseAfterDays: number | null
  lapse: { threshold: number; horizonDays: number; observedCustomers: number; method: string }
  thresholds: { newDays: number; activeDays: number; lapsedDays: number; revenueWindowDays: number }
  stages: Array<{ stage: Stage; customers: number; definition: string; revenueLast30Days: Revenue }>
}

/** Quantile by linear interpolation between order statistics (type 7) of sorted values. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

/**
 * The smallest whole day d with P(second purchase within the horizon | none by day d) < threshold,
 * over customers observed for the whole horizon; `gaps` holds each one's days to a second purchase (null: none).
 */
export function lapseDay(gaps: Array<number | null>, horizonDays: number, threshold: number): number | null {
  if (gaps.length === 0) return null
  // One pass over the sorted gaps as d grows (the horizon may be 3650 days, the customers many).
  const returning = gaps.filter((g): g is number => g !== null && g <= horizonDays).sort((a, b) => a - b)
  const never = gaps.length - returning.length
  let returned = 0
  for (let d = 0; d <= horizonDays; d++) {
    while (returned < returning.length && returning[returned]! <= d) returned++
    const later = returning.length - returned
    const atRisk = never + later
    if (atRisk === 0 || later / atRisk < threshold) return d
  }
  return horizonDays
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000)

/** GET /v1/lifecycle: customers' purchase rhythm from the conversion history. */
export async function lifecycle(store: EventStore, o: LifecycleOptions): Promise<Lifecycle> {
  const thresholds: StageThresholds = stageThresholds(o)
  const { newDays, activeDays, lapsedDays } = thresholds
  const horizonDays = o.horizonDays ?? 365
  const threshold = o.lapseProbability ?? 0.5
  const db = store.db
  const orders = ordersCte(db)
  const params = {
    now: chDateTime(o.now),
    kind: o.kind ?? 'purchase',
    recent: chDateTime(o.now - REVENUE_WINDOW_DAYS * DAY_MS),
    nowMs: o.now,
    ...stageParams(thresholds),
  }
  const money = (m: string) => `mapApply((c, v) -> (c, toString(v)), ${m})`
  const recentOf = (st: Stage) => `${money(`sumMapIf(recent, stage = '${st}')`)} AS recent_${st}, countIf(stage = '${st}') AS n_${st}`
  // One pass over the orders: per customer (inner query) the dates, the stage, the first order (by
  // time, then order id) and the revenue and orders per currency, overall and in the last 30 days;
  // summed over customers (outer query) exactly, as decimals. Only the first and second purchase dates come back per customer.
  const [row] = await queryRows<
    {
      customers: Array<[number, number]>
      order_count: number
      first_revenue: Record<string, string>
      revenue: Record<string, string>
      counts: Record<string, number>
    } & Record<`recent_${Stage}`, Record<string, string>> &
      Record<`n_${Stage}`, number>
  >(
    store,
    `WITH ${orders}
     SELECT groupArray((first, second)) AS customers, sum(n) AS order_count,
            ${money('sumMap(first_revenue)')} AS first_revenue, ${money('sumMap(revenue)')} AS revenue, sumMap(counts) AS counts,
            ${STAGES.map(recentOf).join(', ')}
     FROM (
       SELECT toUnixTimestamp64Milli(min(ts)) AS first, toUnixTimestamp64Milli(max(ts)) AS last, count() AS n,
              if(count() > 1, toUnixTimestamp64Milli(arraySort(groupArray(ts))[2]), 0) AS second,
              ${stageSql('{nowMs:Int64}', 'first', 'last')} AS stage,
              argMin(currency, (ts, order_id)) AS first_currency,
              mapFilter((c, v) -> c != '', map(first_currency, argMin(amount, (ts, order_id)))) AS first_revenue,
              sumMapIf(map(currency, amount), currency != '') AS revenue,
              sumMapIf(map(currency, toUInt64(1)), currency != '') AS counts,
              sumMapIf(map(currency, amount), currency != '' AND ts > toDateTime64({recent:String}, 3, 'UTC')) AS recent
       FROM orders GROUP BY recipient_id
     )`,
    params,
  )
  const customers = row?.customers ?? []

  const counts = Object.fromEntries(STAGES.map((st) => [st, Number(row?.[`n_${st}`] ?? 0)])) as Record<Stage, number>
  const recentByStage = Object.fromEntries(STAGES.map((st) => [st, revenueInCurrency(row?.[`recent_${st}`] ?? {})])) as Record<Stage, Revenue>
  const gaps: number[] = []
  const observed: Array<number | null> = []
  for (const [f, sec] of customers) {
    const first = Number(f)
    const second = Number(sec)
    const gap = second > 0 ? (second - first) / DAY_MS : null
    if (gap !== null) gaps.push(gap)
    if (o.now - first >= horizonDays * DAY_MS) observed.push(gap)
  }
  gaps.sort((a, b) => a - b)
  const orderCount = Number(row?.order_count ?? 0)

  // Most orders first, then by code: the default currency of the headline share.
  const shares = Object.entries(row?.counts ?? {})
    .map(([cur, n]) => [cur, Number(n)] as const)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
  const byCurrency: Lifecycle['revenueShareByCurrency'] = {}
  for (const [cur] of shares) {
    const total = toUnits(row!.revenue[cur] ?? '0')
    const first = toUnits(row!.first_revenue[cur] ?? '0')
    const f = fromUnits(first)
    const rp = fromUnits(total - first)
    const t = Number(fromUnits(total))
    byCurrency[cur] = { firstPurchase: t > 0 ? Number(f) / t : 0, repeat: t > 0 ? Number(rp) / t : 0, revenue: { firstPurchase: inCurrency(f, cur), repeat: inCurrency(rp, cur) } }
  }
  const currency = o.currency ?? shares[0]?.[0] ?? null
  const main = currency ? byCurrency[currency] : undefined

  const definitions = stageDefinitions(thresholds)
  return {
    asOf: new Date(o.now).toISOString(),
    customers: customers.length,
    orders: orderCount,
    revenueShare: {
      currency,
      firstPurchase: main?.firstPurchase ?? 0,
      repeat: main?.repeat ?? 0,
      revenue: main?.revenue ?? { firstPurchase: inCurrency('0', currency ?? ''), repeat: inCurrency('0', currency ?? '') },
      method: LIFECYCLE_METHOD.revenueShare,
    },
    revenueShareByCurrency: byCurrency,
    timeToSecondPurchase: {
      customers: gaps.length,
      median: round(quantile(gaps, 0.5)),
      p25: round(quantile(gaps, 0.25)),
      p75: round(quantile(gaps, 0.75)),
      p90: round(quantile(gaps, 0.9)),
      method: LIFECYCLE_METHOD.timeToSecondPurchase,
    },
    lapseAfterDays: lapseDay(observed, horizonDays, threshold),
    lapse: { threshold, horizonDays, observedCustomers: observed.length, method: LIFECYCLE_METHOD.lapse },
    thresholds: { newDays, activeDays, lapsedDays, revenueWindowDays: REVENUE_WINDOW_DAYS },
    stages: STAGES.map((stage) => ({ stage, customers: counts[stage], definition: definitions[stage], revenueLast30Days: recentByStage[stage] })),
  }
}
