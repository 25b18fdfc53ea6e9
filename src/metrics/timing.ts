import type { EventStore } from '../store/clickhouse.js'
import { groupFacts, type Dimension, type GroupCounts } from './segments.js'
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
}

export interface TimingGroup {
  key: string
  firstOpen: Reaction
  firstClick: Reaction
}

type SumMap = [Array<number | string>, Array<number | string>] | { [k: string]: unknown }

function mapCounts(m: SumMap, size: number, offset: number): number[] {
  const out = new Array<number>(size).fill(0)
  const [keys, values] = Array.isArray(m) ? m : [Object.values(m)[0] as number[], Object.values(m)[1] as number[]]
  keys.forEach((k, i) => {
    const idx = num(k) - offset
    if (idx >= 0 && idx < size) out[idx] = num(values[i])
  })
  return out
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
 * of the timing, as there is nothing to time.
 */
export async function timingAndGroups(
  store: EventStore,
  campaignId: string,
  by: 'segment' | 'variant' | null,
  tz: string,
  w: EventWindow,
  dims: Dimension[],
): Promise<{ timing: TimingGroup[]; groups: GroupCounts[][] }> {
  const t = dims.length
  // The timing aggregates only for the timing dimension's rows: the others do not pay for them.
  const reaction = (kind: 'open' | 'click') => {
    const has = `f.${kind}s > 0 AND dim = ${t}`
    const d = `greatest(0, toUnixTimestamp64Milli(f.first_${kind}) - toUnixTimestamp64Milli(s.sent_at)) / 1000`
    return `countIf(${has}) AS ${kind}_n,
       quantilesExactInclusiveIf(0.25, 0.5, 0.75, 0.9)(${d}, ${has}) AS ${kind}_q,
       sumMapIf([toUInt8(arrayFirstIndex(b -> ${d} < b, {bounds:Array(Float64)}))], [toUInt64(1)], ${has}) AS ${kind}_hist,
       sumMapIf([toHour(f.first_${kind}, {tz:String})], [toUInt64(1)], ${has}) AS ${kind}_hour,
       sumMapIf([toDayOfWeek(f.first_${kind}, 0, {tz:String})], [toUInt64(1)], ${has}) AS ${kind}_dow`
  }
  // by null is one group of the single campaign: its key is the campaign id, "" to the caller.
  const lists = await groupFacts(store, [campaignId], [...dims, by ? { kind: by } : null], w, {
    extra: { sql: `${reaction('open')}, ${reaction('click')}`, params: { tz, bounds: HISTOGRAM_BOUNDS } },
  })
  const shape = (r: Record<string, unknown>, kind: 'open' | 'click'): Reaction => {
    const n = num(r[`${kind}_n`])
    const q = (r[`${kind}_q`] as number[]) ?? []
    // arrayFirstIndex is 1-based and 0 past the last bound: shift so the overflow bucket comes last.
    const raw = mapCounts(r[`${kind}_hist`] as SumMap, HISTOGRAM_BOUNDS.length + 1, 0)
    const hist = [...raw.slice(1), raw[0]!]
    return {
      count: n,
      quantiles: n > 0 ? { p25: num(q[0]), p50: num(q[1]), p75: num(q[2]), p90: num(q[3]) } : { p25: null, p50: null, p75: null, p90: null },
      histogram: hist.map((count, i) => ({ fromSeconds: i === 0 ? 0 : HISTOGRAM_BOUNDS[i - 1]!, toSeconds: HISTOGRAM_BOUNDS[i] ?? null, count })),
      byHour: mapCounts(r[`${kind}_hour`] as SumMap, 24, 0),
      byWeekday: mapCounts(r[`${kind}_dow`] as SumMap, 7, 1),
    }
  }
  const timed = lists[t]!
    .filter((g) => g.counts.engaged > 0)
    .map((g) => ({ key: by ? g.counts.key : '', firstOpen: shape(g.row, 'open'), firstClick: shape(g.row, 'click') }))
  return { timing: timed, groups: lists.slice(0, t).map((rows) => rows.map((g) => g.counts)) }
}
