import { queryRows, type EventStore } from '../store/clickhouse.js'
import { invalid } from '../util/errors.js'
import { DAY_MS } from '../util/window.js'
import { attributedConversionsManySql } from './attribution.js'
import { trafficAggregate } from './sql.js'
import { wilson, type Interval } from './statistics.js'

export interface PressureDistribution {
  at: string
  windowDays: number
  /** Recipients sent to at or before `at` (over all campaigns): the population, zeros included. */
  recipients: number
  sends: number
  /** Recipients with exactly `sends` sends in the window, for every count that occurs. */
  histogram: Array<{ sends: number; recipients: number }>
  mean: number
  percentiles: { p50: number; p90: number; p99: number; max: number }
}

/**
 * How many messages each recipient received in (at − window, at]: a histogram over every recipient
 * ever sent to (those with none in the window are the 0 bar), counting only `campaigns` when given.
 */
export async function pressureDistribution(store: EventStore, o: { at: number; windowDays: number; campaigns?: readonly string[] | undefined }): Promise<PressureDistribution> {
  const inCampaigns = o.campaigns ? ' AND has({campaigns:Array(String)}, c)' : ''
  // One row per recipient (recipient_sends, migration 2300): each campaign's latest send, the one
  // sends FINAL keeps; a recipient is in the population when one of them is at or before `at`.
  const rows = await queryRows<{ n: number; recipients: number }>(
    store,
    `SELECT n, count() AS recipients FROM (
       SELECT arrayCount((t, c) -> t > {since:Int64} AND t <= {at:Int64}${inCampaigns}, sends.2, sends.1) AS n
       FROM ${store.db}.recipient_sends FINAL
       WHERE arrayExists(t -> t <= {at:Int64}, sends.2)
     ) GROUP BY n ORDER BY n`,
    { at: o.at, since: o.at - o.windowDays * DAY_MS, campaigns: o.campaigns ?? [] },
  )
  const histogram = rows.map((r) => ({ sends: Number(r.n), recipients: Number(r.recipients) }))
  const recipients = histogram.reduce((a, h) => a + h.recipients, 0)
  const sends = histogram.reduce((a, h) => a + h.sends * h.recipients, 0)
  return {
    at: new Date(o.at).toISOString(),
    windowDays: o.windowDays,
    recipients,
    sends,
    histogram,
    mean: recipients ? sends / recipients : 0,
    percentiles: { p50: histogramQuantile(histogram, 0.5), p90: histogramQuantile(histogram, 0.9), p99: histogramQuantile(histogram, 0.99), max: histogram.at(-1)?.sends ?? 0 },
  }
}

/** The q-quantile of the counts a histogram describes (nearest rank: a whole number of sends). */
export function histogramQuantile(h: ReadonlyArray<{ sends: number; recipients: number }>, q: number): number {
  const total = h.reduce((a, b) => a + b.recipients, 0)
  if (total === 0) return 0
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const b of h) {
    seen += b.recipients
    if (seen >= rank) return b.sends
  }
  return h.at(-1)!.sends
}

export interface FatigueBucket {
  /** Sends the recipient had received in the window before this one: low..high (high null: and more). */
  label: string
  low: number
  high: number | null
  sends: number
  opened: number
  clicked: number
  unsubscribed: number
  converted: number
  openRate: Interval
  clickRate: Interval
  unsubscribeRate: Interval
  conversionRate: Interval
}

export interface FatigueCurve {
  windowDays: number
  from: string
  to: string
  buckets: FatigueBucket[]
}

/** `[0, 2, 4, 7]` → "0-1", "2-3", "4-6", "7+". Lower bounds, strictly increasing, the first 0. */
export function bucketLabels(lows: readonly number[]): Array<{ label: string; low: number; high: number | null }> {
  if (lows[0] !== 0 || lows.some((l, i) => !Number.isInteger(l) || (i > 0 && l <= lows[i - 1]!))) {
    throw invalid('query.buckets: lower bounds must be whole numbers, strictly increasing, starting at 0 (e.g. 0,2,4,7)')
  }
  return lows.map((low, i) => {
    const next = lows[i + 1]
    const high = next === undefined ? null : next - 1
    return { low, high, label: high === null ? `${low}+` : high === low ? String(low) : `${low}-${high}` }
  })
}

export const DEFAULT_FATIGUE_BUCKETS = [0, 2, 4, 7]

/**
 * The fatigue curve: every send of `campaigns` made in [from, to) is put in the bucket of the
 * number of sends (of the same campaigns) its recipient had in the `windowDays` before it (that send
 * excluded); per bucket, the share of those sends whose recipient opened (human), clicked (human),
 * unsubscribed from that campaign, or converted (attributed to it, click attribution, 7-day window),
 * each with its 95% Wilson interval. Prior sends are counted within each recipient's row of
 * recipient_sends (a few sends each): one pass, no self-join, no sort of every send.
 */
export async function fatigueCurve(
  store: EventStore,
  o: { from: number; to: number; windowDays: number; campaigns: readonly string[]; buckets?: readonly number[] | undefined },
): Promise<FatigueCurve> {
  if (o.from >= o.to) throw invalid('query.from: must be before query.to')
  const buckets = bucketLabels(o.buckets ?? DEFAULT_FATIGUE_BUCKETS)
  const db = store.db
  const windowMs = o.windowDays * DAY_MS
  const conv = attributedConversionsManySql(db, {})
  const empty = { sends: 0, opened: 0, clicked: 0, unsubscribed: 0, converted: 0 }
  const rows = o.campaigns.length
    ? await queryRows<{ b: number; sends: number; opened: number; clicked: number; unsubscribed: number; converted: number }>(
        store,
        `WITH ${conv.sql},
         converted AS (SELECT DISTINCT cityHash64(for_campaign, recipient_id) AS h FROM attributed WHERE recipient_id != '')
         SELECT arrayCount(l -> prior >= l, {lows:Array(UInt32)}) - 1 AS b, count() AS sends,
                countIf(f.opens > 0) AS opened, countIf(f.clicks > 0) AS clicked, countIf(f.unsubscribes > 0) AS unsubscribed,
                countIf(s.h IN (SELECT h FROM converted)) AS converted
         FROM (
           -- Per recipient (recipient_sends: each campaign's latest send, what sends FINAL keeps),
           -- the sends of these campaigns in [since, at]; each one's prior is the number of them in
           -- the window before its second, [sec − window, sec): those in its very second (itself
           -- included) are not "before" it. Over the arrays rather than a window function over
           -- 10 M sends read with FINAL: that side 8-9 s -> 1.7-2.1 s CPU (bench/pressure.ts).
           SELECT cityHash64(c, recipient_id) AS h, sent, prior FROM (
             SELECT recipient_id, ts, cs, arrayMap(t -> intDiv(t, 1000), ts) AS secs,
                    arrayMap(x -> arrayCount(y -> y >= x - {windowS:UInt32} AND y < x, secs), secs) AS priors
             FROM (
               SELECT recipient_id,
                      arrayFilter((t, c) -> t >= {since:Int64} AND t <= {at:Int64} AND has({campaigns:Array(String)}, c), sends.2, sends.1) AS ts,
                      arrayFilter((c, t) -> t >= {since:Int64} AND t <= {at:Int64} AND has({campaigns:Array(String)}, c), sends.1, sends.2) AS cs
               FROM ${db}.recipient_sends FINAL
             )
             WHERE notEmpty(ts)
           ) ARRAY JOIN ts AS sent, cs AS c, priors AS prior
         ) AS s
         LEFT JOIN (
           SELECT cityHash64(campaign_id, recipient_id) AS h,
                  ${trafficAggregate('count', 'human', 'open')} AS opens,
                  ${trafficAggregate('count', 'human', 'click')} AS clicks,
                  ${trafficAggregate('count', 'human', 'unsubscribe')} AS unsubscribes
           FROM ${db}.events
           WHERE campaign_id IN {campaigns:Array(String)} AND recipient_id != ''
           GROUP BY h
         ) AS f ON f.h = s.h
         WHERE s.sent >= {from:Int64} AND s.sent < {to:Int64}
         GROUP BY b ORDER BY b`,
        { ...conv.params, campaigns: o.campaigns, lows: buckets.map((b) => b.low), windowS: windowMs / 1000, at: o.to - 1, since: o.from - windowMs, from: o.from, to: o.to },
      )
    : []
  const byBucket = new Map(rows.map((r) => [Number(r.b), r]))
  return {
    windowDays: o.windowDays,
    from: new Date(o.from).toISOString(),
    to: new Date(o.to).toISOString(),
    buckets: buckets.map((b, i) => {
      const r = byBucket.get(i) ?? empty
      const n = Number(r.sends)
      const c = { opened: Number(r.opened), clicked: Number(r.clicked), unsubscribed: Number(r.unsubscribed), converted: Number(r.converted) }
      return {
        ...b,
        sends: n,
        ...c,
        openRate: wilson(c.opened, n),
        clickRate: wilson(c.clicked, n),
        unsubscribeRate: wilson(c.unsubscribed, n),
        conversionRate: wilson(c.converted, n),
      }
    }),
  }
}

export interface CapSpec {
  windowDays: number
  max: number
  /** The category whose sends count; null: every category but transactional. */
  category: string | null
}

export interface CapReached {
  /** Index of the cap in the list given. */
  cap: number
  /** Sends counted in its window. */
  sends: number
  /** When the recipient is under the cap again (epoch ms). */
  eligibleAt: number
}

/**
 * Which of these recipients reached which caps at `at`, counting their sends already recorded in
 * each cap's window (at − window, at] (other campaigns than `excludeCampaign`; transactional ones
 * never). Computed in ClickHouse so only the recipients at a cap come back: a 10,000-recipient send
 * returns tens of rows rather than every earlier send (31 k rows cost ~400 ms of JSON through chDB).
 * `categories` maps campaign ids to their category (campaigns not named have none).
 */
export async function capsReached(
  store: EventStore,
  recipientIds: readonly string[],
  o: { at: number; caps: readonly CapSpec[]; categories: ReadonlyMap<string, string>; excludeCampaign: string },
): Promise<Map<string, CapReached[]>> {
  const out = new Map<string, CapReached[]>()
  if (recipientIds.length === 0 || o.caps.length === 0) return out
  const longest = Math.max(...o.caps.map((c) => c.windowDays)) * DAY_MS
  // The window test and the category test of cap i, on a send time t and category k.
  const counted = `(t, k) -> t > {at:Int64} - wins[i] AND if(capcats[i] = '', k != 'transactional', k = capcats[i])`
  const rows = await queryRows<{ r: string; caps: Array<[number, number, number]> }>(
    store,
    `WITH {wins:Array(Int64)} AS wins, {maxes:Array(UInt32)} AS maxes, {capcats:Array(String)} AS capcats
     SELECT r, arrayFilter(x -> x.2 >= maxes[x.1], caps) AS caps FROM (
       SELECT r, arrayMap(i -> (i, length(arrayFilter(${counted}, ts, ks)) AS n,
                                if(n >= maxes[i], arraySort(arrayFilter(${counted}, ts, ks))[n - maxes[i] + 1] + wins[i], 0)),
                          arrayEnumerate(wins)) AS caps
       FROM (
         -- Each campaign's latest send (maxMap), kept when in (since, at] and not of the campaign being sent.
         SELECT r, arrayFilter((t, c) -> t > {since:Int64} AND t <= {at:Int64} AND c != {exclude:String}, m.2, m.1) AS ts,
                arrayMap(c -> transform(c, {cids:Array(String)}, {cats:Array(String)}, ''),
                         arrayFilter((c, t) -> t > {since:Int64} AND t <= {at:Int64} AND c != {exclude:String}, m.1, m.2)) AS ks
         FROM (
           -- maxMap again rather than FINAL: only these recipients' rows are merged (rows not merged yet).
           SELECT recipient_id AS r, maxMap(sends) AS m FROM ${store.db}.recipient_sends
           WHERE recipient_id IN {ids:Array(String)}
           GROUP BY recipient_id
         )
       )
     ) WHERE notEmpty(caps)
     -- The whole column is read (the 10,000 recipients fall in every granule) and stored uncompressed
     -- (migration 2400): mapped rather than copied through a read buffer, ~20 % less CPU.
     SETTINGS min_bytes_to_use_mmap_io = 1, local_filesystem_read_method = 'mmap'`,
    {
      wins: o.caps.map((c) => c.windowDays * DAY_MS),
      maxes: o.caps.map((c) => c.max),
      capcats: o.caps.map((c) => c.category ?? ''),
      cids: [...o.categories.keys()],
      cats: [...o.categories.values()],
      ids: [...new Set(recipientIds)],
      since: o.at - longest,
      at: o.at,
      exclude: o.excludeCampaign,
    },
  )
  for (const r of rows) out.set(r.r, r.caps.map(([i, n, e]) => ({ cap: Number(i) - 1, sends: Number(n), eligibleAt: Number(e) })))
  return out
}
