import { divDecimal, inCurrency } from '../conversions/money.js'
import type { EventStore } from '../store/clickhouse.js'
import type { AttributionOptions, Dimension, GroupRow } from './attribution.js'
import { conversionsByCampaign, conversionsByDimension, denominators, denominatorsByCampaign } from './conversion-groups.js'
import { revenueMoments, revenueMomentsByCampaign, type RevenueMoments } from './revenue-moments.js'
import { compareRates } from './compare.js'
import { normalCdf, normalQuantile, MIN_GROUP_N, type Interval, type TestResult } from './statistics.js'
import { DomainError } from '../util/errors.js'

export type ConversionMetric = 'conversion_rate' | 'clicker_conversion_rate' | 'revenue_per_recipient'

export const CONVERSION_METRICS = ['conversion_rate', 'clicker_conversion_rate', 'revenue_per_recipient'] as const

export const CONVERSION_METRIC_DEFINITIONS: Record<ConversionMetric, string> = {
  conversion_rate: 'converters / sent',
  clicker_conversion_rate: 'converters / unique clickers',
  revenue_per_recipient: 'revenue in the currency / sent (recipients without an order count as 0)',
}

/** revenue_per_recipient without a currency named, for groups that recorded no revenue. */

export interface ConversionCompareRow {
  key: string
  sent: number
  trials: number
  /** Converters for the rates; null for revenue per recipient (not a proportion). */
  successes: number | null
  rate: Interval
  /** revenue_per_recipient: revenue / sent from the exact sums, in the currency's decimals. */
  exact?: string
}

export interface ConversionComparison {
  metric: ConversionMetric
  definition: string
  alpha: number
  currency: string | null
  rows: ConversionCompareRow[]
  differences: Array<{ key: string; versus: string; absolute: Interval; relative: Interval | null }>
  test: Omit<TestResult, 'name' | 'reason'> & { name: TestResult['name'] | 'welch_z'; reason: TestResult['reason'] }
}

/** One group compared: its denominators and attributed orders. */
export interface ConversionGroup {
  key: string
  sent: number
  clickers: number
  orders: GroupRow | undefined
}

/**
 * Groups (variants, segments or campaigns, the first the reference) side by side on a conversion
 * metric. Rates: the proportion tests of the metrics API. Revenue per recipient: a Welch z-test of
 * the best group against the runner-up, Bonferroni-adjusted for the k(k−1)/2 pairs; `moments` gives
 * each group's per-recipient revenue sums in `currency` (fetched only for that metric).
 */
export async function compareConversionGroups(
  groups: ConversionGroup[],
  metric: ConversionMetric,
  alpha: number,
  currencyAsked: string | undefined,
  moments: (currency: string) => Promise<Map<string, RevenueMoments>>,
): Promise<ConversionComparison> {
  const definition = CONVERSION_METRIC_DEFINITIONS[metric]
  if (metric !== 'revenue_per_recipient') {
    const rated = compareRates(
      groups.map((g) => {
        const trials = metric === 'conversion_rate' ? g.sent : g.clickers
        return { key: g.key, sent: g.sent, trials, successes: Math.min(g.orders?.converters ?? 0, trials) }
      }),
      alpha,
    )
    return { metric, definition, alpha, currency: null, ...rated }
  }
  const currencies = new Map<string, number>()
  for (const g of groups) for (const [cur, n] of Object.entries(g.orders?.orders ?? {})) currencies.set(cur, (currencies.get(cur) ?? 0) + n)
  const currency = currencyAsked ?? [...currencies.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0]
  if (!currency) throw new DomainError('validation_failed', 'query.currency: no revenue recorded for these groups; name a currency')
  const m = await moments(currency)
  const z = normalQuantile(1 - alpha / 2)
  const stats = groups.map((g) => {
    const mo = m.get(g.key) ?? { sum: 0, sumSquares: 0 }
    const n = g.sent
    const mean = n > 0 ? mo.sum / n : 0
    const variance = n > 1 ? Math.max(0, (mo.sumSquares - n * mean * mean) / (n - 1)) : 0
    return { key: g.key, n, mean, variance, exact: g.orders?.revenue[currency] }
  })
  const rows = stats.map((s) => {
    const half = s.n > 0 ? z * Math.sqrt(s.variance / s.n) : 0
    return { key: s.key, sent: s.n, trials: s.n, successes: null, rate: { value: s.mean, low: s.mean - half, high: s.mean + half }, exact: inCurrency(divDecimal(s.exact ?? '0', s.n), currency) }
  })
  const welch = (a: (typeof stats)[number], b: (typeof stats)[number]) => {
    const se = Math.sqrt(a.variance / a.n + b.variance / b.n)
    const stat = se > 0 ? (a.mean - b.mean) / se : 0
    return { se, stat, p: se > 0 ? 2 * (1 - normalCdf(Math.abs(stat))) : 1 }
  }
  const first = stats[0]
  const differences = first
    ? stats.slice(1).map((s) => {
        const w = welch(s, first)
        const d = s.mean - first.mean
        return { key: s.key, versus: first.key, absolute: { value: d, low: d - z * w.se, high: d + z * w.se }, relative: null }
      })
    : []
  const none = { statistic: null, df: null, pValue: null, significant: false, winner: null, neededPerGroup: null }
  let test: ConversionComparison['test']
  if (stats.length < 2) test = { ...none, name: 'none', reason: 'single_group' }
  else if (stats.some((s) => s.n < MIN_GROUP_N)) test = { ...none, name: 'welch_z', reason: 'not_enough_data' }
  else {
    const [best, second] = [...stats].sort((a, b) => b.mean - a.mean) as [(typeof stats)[number], (typeof stats)[number]]
    const w = welch(best, second)
    const k = stats.length
    const p = Math.min(1, w.p * ((k * (k - 1)) / 2))
    const significant = p < alpha
    test = { name: 'welch_z', statistic: w.stat, df: null, pValue: p, significant, winner: significant ? best.key : null, reason: w.se === 0 ? 'no_variation' : null, neededPerGroup: null }
  }
  return { metric, definition, alpha, currency, rows, differences, test }
}

/** Variants or segments of one campaign on a conversion metric (sorted by key; `dropEmptyKey` leaves out recipients without one). */
export async function compareConversionsBy(
  store: EventStore,
  campaignId: string,
  by: Dimension,
  metric: ConversionMetric,
  alpha: number,
  opts: AttributionOptions & { currency?: string | undefined; dropEmptyKey?: boolean },
): Promise<ConversionComparison> {
  const [orders, dens] = await Promise.all([conversionsByDimension(store, campaignId, by, opts), denominators(store, campaignId, by, opts)])
  const groups = dens
    .filter((d) => !(opts.dropEmptyKey && d.key === ''))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((d) => ({ key: d.key, sent: d.sent, clickers: d.clickers, orders: orders.get(d.key) }))
  return compareConversionGroups(groups, metric, alpha, opts.currency, async (cur) => new Map((await revenueMoments(store, campaignId, by, cur, opts)).map((m) => [m.key, m])))
}

/** Campaigns side by side on a conversion metric, in the order given (the first the reference): two grouped queries, a third for revenue. */
export async function compareCampaignConversions(
  store: EventStore,
  campaignIds: string[],
  metric: ConversionMetric,
  alpha: number,
  opts: AttributionOptions & { currency?: string | undefined },
): Promise<ConversionComparison> {
  const [orders, dens] = await Promise.all([conversionsByCampaign(store, campaignIds, opts), denominatorsByCampaign(store, campaignIds, opts)])
  const groups = campaignIds.map((id) => ({ key: id, sent: dens.get(id)?.sent ?? 0, clickers: dens.get(id)?.clickers ?? 0, orders: orders.get(id) }))
  return compareConversionGroups(groups, metric, alpha, opts.currency, async (cur) => new Map((await revenueMomentsByCampaign(store, campaignIds, cur, opts)).map((m) => [m.key, m])))
}
