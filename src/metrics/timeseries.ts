import { chDateTime, type EventStore, queryRows } from '../store/clickhouse.js'
import { num, trafficCondition, type EventWindow } from './sql.js'
import { DomainError } from '../util/errors.js'

export type SeriesMetric = 'opens' | 'clicks' | 'unique_openers' | 'unique_clickers'
export type SeriesInterval = 'minute' | 'hour' | 'day'

/** Fixed SQL per metric and interval; none of it comes from input. */
const AGG: Record<SeriesMetric, { type: 'open' | 'click'; agg: string }> = {
  opens: { type: 'open', agg: "countIf(type = 'open')" },
  clicks: { type: 'click', agg: "countIf(type = 'click')" },
  unique_openers: { type: 'open', agg: "uniqExactIf(cityHash64(recipient_id), recipient_id != '' AND type = 'open')" },
  unique_clickers: { type: 'click', agg: "uniqExactIf(cityHash64(recipient_id), recipient_id != '' AND type = 'click')" },
}
const BUCKET: Record<SeriesInterval, { fn: string; unit: string; ms: number }> = {
  minute: { fn: 'toStartOfMinute', unit: 'MINUTE', ms: 60_000 },
  hour: { fn: 'toStartOfHour', unit: 'HOUR', ms: 3_600_000 },
  day: { fn: 'toStartOfDay', unit: 'DAY', ms: 86_400_000 },
}

export const MAX_BUCKETS = 10_000


export interface Bucket {
  /** Start of the bucket as an instant (UTC, ISO-8601). */
  start: string
  /** Start of the bucket on the wall clock of the time zone. */
  local: string
  value: number
}

/**
 * One value per bucket from `from` (or the first event) to `to` (or the last), empty buckets
 * filled with 0 by ClickHouse's WITH FILL; buckets are cut on the wall clock of `tz`, so a day
 * is a local day, 23 or 25 hours long across a DST change.
 */
export async function timeseries(store: EventStore, campaignId: string, metric: SeriesMetric, interval: SeriesInterval, tz: string, w: EventWindow): Promise<Bucket[]> {
  const db = store.db
  const t = trafficCondition(w.traffic)
  const params = { campaign: campaignId, type: AGG[metric].type }
  let from = w.from
  let to = w.to
  if (from === undefined || to === undefined) {
    const [b] = await queryRows<{ n: number; lo: number; hi: number }>(
      store,
      `SELECT count() AS n, toUnixTimestamp64Milli(min(ts)) AS lo, toUnixTimestamp64Milli(max(ts)) AS hi
       FROM ${db}.events WHERE campaign_id = {campaign:String} AND type = {type:String} AND ${t}`,
      params,
    )
    if (!b || num(b.n) === 0) {
      if (from === undefined || to === undefined) return []
    } else {
      from ??= num(b.lo)
      to ??= num(b.hi) + 1
    }
  }
  if (to! <= from!) return []
  return (await timeseriesEach(store, campaignId, [metric], interval, tz, { ...w, from: from!, to: to! }))[0]!
}

/**
 * Several metrics over the same buckets from one scan of the events (the campaign page's opens
 * and clicks); the window's bounds are required, as each metric's own span would differ.
 */
export async function timeseriesEach(
  store: EventStore,
  campaignId: string,
  metrics: SeriesMetric[],
  interval: SeriesInterval,
  tz: string,
  w: EventWindow & { from: number; to: number },
): Promise<Bucket[][]> {
  const db = store.db
  const { fn, unit, ms } = BUCKET[interval]
  const { from, to } = w
  if (to <= from) return metrics.map(() => [])
  if ((to - from) / ms > MAX_BUCKETS) throw new DomainError('validation_failed', `query.interval: more than ${MAX_BUCKETS} ${interval} buckets between from and to; use a coarser interval or a shorter from/to`)
  const params: Record<string, unknown> = {
    campaign: campaignId,
    types: [...new Set(metrics.map((m) => AGG[m].type))],
    tz,
    from: chDateTime(from),
    to: chDateTime(to),
    // `to` is exclusive: the last bucket is the one holding to − 1 ms.
    last: chDateTime(to - 1),
  }
  const local = (p: string) => `${fn}(toDateTime(toDateTime64({${p}:String}, 3, 'UTC'), {tz:String}))`
  const rows = await queryRows<Record<string, number> & { local: string; u: number }>(
    store,
    `SELECT toString(b) AS local, toUnixTimestamp(b) AS u, ${metrics.map((_, i) => `v${i}`).join(', ')} FROM (
       SELECT ${fn}(toDateTime(ts, {tz:String})) AS b, ${metrics.map((m, i) => `${AGG[m].agg} AS v${i}`).join(', ')}
       FROM ${db}.events
       WHERE campaign_id = {campaign:String} AND type IN {types:Array(String)} AND ${trafficCondition(w.traffic)}
         AND ts >= toDateTime64({from:String}, 3, 'UTC') AND ts < toDateTime64({to:String}, 3, 'UTC')
       GROUP BY b
       ORDER BY b WITH FILL FROM ${local('from')} TO ${local('last')} + INTERVAL 1 ${unit} STEP INTERVAL 1 ${unit}
     )`,
    params,
  )
  return metrics.map((_, i) => rows.map((r) => ({ start: new Date(num(r.u) * 1000).toISOString(), local: r.local.replace(' ', 'T'), value: num(r[`v${i}`]) })))
}
