import { queryRows, type EventStore } from '../store/clickhouse.js'
import { num, recipientFacts, type EventWindow } from './sql.js'

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
  const db = store.db
  const facts = recipientFacts(db, w, 'campaign_id = {campaign:String}')
  const key = by === 'segment' ? 'arrayJoin(segments)' : by === 'variant' ? 'variant' : "''"
  const reaction = (kind: 'open' | 'click') => {
    const has = `f.${kind}s > 0`
    const d = `greatest(0, toUnixTimestamp64Milli(f.first_${kind}) - toUnixTimestamp64Milli(s.sent_at)) / 1000`
    return `countIf(${has}) AS ${kind}_n,
       quantilesExactInclusiveIf(0.25, 0.5, 0.75, 0.9)(${d}, ${has}) AS ${kind}_q,
       sumMapIf([toUInt8(arrayFirstIndex(b -> ${d} < b, {bounds:Array(Float64)}))], [toUInt64(1)], ${has}) AS ${kind}_hist,
       sumMapIf([toHour(f.first_${kind}, {tz:String})], [toUInt64(1)], ${has}) AS ${kind}_hour,
       sumMapIf([toDayOfWeek(f.first_${kind}, 0, {tz:String})], [toUInt64(1)], ${has}) AS ${kind}_dow`
  }
  const rows = await queryRows<Record<string, unknown>>(
    store,
    `SELECT s.key AS key, ${reaction('open')}, ${reaction('click')}
     FROM (SELECT campaign_id, recipient_id, sent_at, ${key} AS key FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}) AS s
     INNER JOIN (${facts.sql}) AS f USING (campaign_id, recipient_id)
     GROUP BY key
     ORDER BY key`,
    { campaign: campaignId, tz, bounds: HISTOGRAM_BOUNDS, ...facts.params },
  )
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
  return rows.map((r) => ({ key: String(r.key), firstOpen: shape(r, 'open'), firstClick: shape(r, 'click') }))
}
