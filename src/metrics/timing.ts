import type { EventStore } from '../store/clickhouse.js'
import { campaignTotals, shapeStats, statsColumns, type CampaignStats } from './campaign-stats.js'
import { groupFacts, type Dimension, type GroupCounts } from './facts.js'
import { num, type EventWindow } from './sql.js'

/** Histogram upper bounds in seconds: 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 d, 2 d, 7 d, then the rest. */
export const HISTOGRAM_BOUNDS = [300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800]

export interface Reaction {
  count: number
  quantiles: { p25: number | null; p50: number | null; p75: number | null; p90: number | null }
  /** Recipients by time from send to first event: [fromSeconds, toSeconds) with toSeconds null for the last. */
  histogram: Array<{ fromSeconds: number; toSeconds: number | null; count: number }>
  /** Recipients by local hour (0–23) of their first event. */
  byHour: number[]
  /** Recipients by local weekday of their first event, Monday first. */
  byWeekday: number[]
  /** Recipients by local weekday (Monday first) and hour (0–23) of their first event: 7 rows of 24; byHour and byWeekday are its sums. */
  byWeekdayHour: number[][]
}

export interface TimingGroup {
  key: string
  firstOpen: Reaction
  firstClick: Reaction
}

/** A -Resample count array (one count per key from its start; numbers may come back as strings) padded to `size`. */
function counts(v: unknown, size: number): number[] {
  const a = Array.isArray(v) ? v : []
  return Array.from({ length: size }, (_, i) => num(a[i]))
}

/**
 * When recipients react: per group (segment, variant, or everyone under key ""), the time from
 * send to first open and to first click (quantiles, histogram) and the local hour and weekday of
 * those first events. Only recipients with a send row count.
 */
export async function timing(store: EventStore, campaignId: string, by: 'segment' | 'variant' | null, tz: string, w: EventWindow): Promise<TimingGroup[]> {
  return (await timingAndGroups(store, campaignId, by, tz, w, [])).timing
}

/**
 * `timing`, and groupCounts for `dims`, from one join of the sends to the recipients' facts (the
 * campaign page's timing and bars). Groups without a recipient who opened or clicked are left out
 * of the timing, as there is nothing to time. With `stats`, the campaign's stats come from the
 * same pass (campaignStats' own columns over every event: see groupFacts' everyEvent).
 */
export async function timingAndGroups(
  store: EventStore,
  campaignId: string,
  by: 'segment' | 'variant' | null,
  tz: string,
  w: EventWindow,
  dims: Dimension[],
  opts: { stats?: boolean } = {},
): Promise<{ timing: TimingGroup[]; groups: GroupCounts[][]; stats?: CampaignStats }> {
  const t = dims.length
  // Counts per histogram bucket, hour and weekday with -Resample: arrays of counts by key, about
  // half the CPU of building a one-entry map per row for sumMap (the keys inside if():
  // short-circuit evaluation skips them on the rows of recipients without that event).
  const reaction = (kind: 'open' | 'click') => {
    const has = `${kind}s > 0 AND has_send`
    const d = `greatest(0, toUnixTimestamp64Milli(first_${kind}) - toUnixTimestamp64Milli(sent_at)) / 1000`
    return {
      inner: `countIf(${has}) AS ${kind}_n_,
         quantilesExactInclusiveIfState(0.25, 0.5, 0.75, 0.9)(${d}, ${has}) AS ${kind}_q_,
         countIfResample(0, ${HISTOGRAM_BOUNDS.length + 1}, 1)(${has}, if(${has}, arrayFirstIndex(b -> ${d} < b, {bounds:Array(Float64)}), 0)) AS ${kind}_hist_,
         countIfResample(0, 168, 1)(${has}, if(${has}, (toDayOfWeek(first_${kind}, 0, {tz:String}) - 1) * 24 + toHour(first_${kind}, {tz:String}), 0)) AS ${kind}_week_`,
      outer: `sumIf(${kind}_n_, dim = ${t}) AS ${kind}_n,
       quantilesExactInclusiveIfMergeIf(0.25, 0.5, 0.75, 0.9)(${kind}_q_, dim = ${t}) AS ${kind}_q,
       sumForEachIf(${kind}_hist_, dim = ${t}) AS ${kind}_hist,
       sumForEachIf(${kind}_week_, dim = ${t}) AS ${kind}_week`,
    }
  }
  // by null is one group of the single campaign: its key is the campaign id, "" to the caller.
  // The stats ride on a null dimension: the timing's own when by is null, else one more.
  const all: Array<Dimension | null> = [...dims, by ? { kind: by } : null]
  const everyone = opts.stats ? (by ? all.push(null) - 1 : t) : -1
  const [lists, totals] = await Promise.all([
    groupFacts(store, [campaignId], all, w, {
      everyEvent: opts.stats,
      extra: {
        inner: [reaction('open').inner, reaction('click').inner, ...(opts.stats ? [statsColumns(everyone, w.traffic).inner] : [])].join(',\n'),
        outer: [reaction('open').outer, reaction('click').outer, ...(opts.stats ? [statsColumns(everyone, w.traffic).outer] : [])].join(',\n'),
        params: { tz, bounds: HISTOGRAM_BOUNDS },
      },
    }),
    opts.stats ? campaignTotals(store, campaignId, w) : undefined,
  ])
  const shape = (r: Record<string, unknown>, kind: 'open' | 'click'): Reaction => {
    const n = num(r[`${kind}_n`])
    const q = (r[`${kind}_q`] as number[]) ?? []
    // arrayFirstIndex is 1-based and 0 past the last bound: shift so the overflow bucket comes last.
    const raw = counts(r[`${kind}_hist`], HISTOGRAM_BOUNDS.length + 1)
    const hist = [...raw.slice(1), raw[0]!]
    // One count per (weekday, hour) cell: the two marginals are sums of it, not two more columns.
    const cells = counts(r[`${kind}_week`], 168)
    const week = Array.from({ length: 7 }, (_, d) => cells.slice(d * 24, d * 24 + 24))
    return {
      count: n,
      quantiles: n > 0 ? { p25: num(q[0]), p50: num(q[1]), p75: num(q[2]), p90: num(q[3]) } : { p25: null, p50: null, p75: null, p90: null },
      histogram: hist.map((count, i) => ({ fromSeconds: i === 0 ? 0 : HISTOGRAM_BOUNDS[i - 1]!, toSeconds: HISTOGRAM_BOUNDS[i] ?? null, count })),
      byHour: Array.from({ length: 24 }, (_, h) => week.reduce((s, day) => s + day[h]!, 0)),
      byWeekday: week.map((day) => day.reduce((s, n) => s + n, 0)),
      byWeekdayHour: week,
    }
  }
  const timed = lists[t]!
    .filter((g) => g.counts.engaged > 0)
    .map((g) => ({ key: by ? g.counts.key : '', firstOpen: shape(g.row, 'open'), firstClick: shape(g.row, 'click') }))
  const groups = lists.slice(0, t).map((rows) => rows.map((g) => g.counts))
  if (!opts.stats) return { timing: timed, groups }
  return { timing: timed, groups, stats: shapeStats(campaignId, w, lists[everyone]![0]?.row, totals) }
}
