import { chDateTime } from '../store/clickhouse.js'

/**
 * Which events count: people (default), machines (MPP prefetches, scanners, crawlers), or every
 * stored event. `human` and `machine` leave out the hits whose token did not verify (forged or
 * damaged, token_valid = false, recipient ''): anyone who has seen one tracked URL can make them,
 * so they are nobody's open or click; they are reported apart (invalidToken), and `all` includes them.
 */
export type Traffic = 'human' | 'machine' | 'all'

export interface EventWindow {
  traffic: Traffic
  /** Inclusive lower bound on the event time (epoch ms). */
  from?: number | undefined
  /** Exclusive upper bound on the event time (epoch ms). */
  to?: number | undefined
}

/** SQL condition on `class` and `token_valid` for a traffic choice; fixed strings, never built from input. */
export function trafficCondition(traffic: Traffic): string {
  if (traffic === 'human') return `class = 'human' AND token_valid`
  if (traffic === 'machine') return `class != 'human' AND token_valid`
  return '1'
}

/**
 * The class alone, for the queries that read p_campaign_classes (which has no token_valid): first
 * and last event times and the machine breakdown by reason, which do not count recipients' actions.
 */
export function classCondition(traffic: Traffic): string {
  if (traffic === 'human') return `class = 'human'`
  if (traffic === 'machine') return `class != 'human'`
  return '1'
}

/**
 * Sort key putting an order's rows from the public pixel (method GET) after the authenticated ones,
 * so that `LIMIT 1 BY order_id` keeps the authenticated row when both exist.
 */
export const PIXEL_LAST = `method = 'GET'`

/** ` AND …` clauses bounding `ts` by the window, with their parameters. */
export function timeClauses(w: Pick<EventWindow, 'from' | 'to'>, prefix = ''): { sql: string; params: Record<string, string> } {
  let sql = ''
  const params: Record<string, string> = {}
  if (w.from !== undefined) {
    sql += ` AND ${prefix}ts >= toDateTime64({from:String}, 3, 'UTC')`
    params.from = chDateTime(w.from)
  }
  if (w.to !== undefined) {
    sql += ` AND ${prefix}ts < toDateTime64({to:String}, 3, 'UTC')`
    params.to = chDateTime(w.to)
  }
  return { sql, params }
}

/**
 * The key of a (campaign, recipient) in joins of the sends to the facts: a 64-bit hash, as the
 * exact uniques elsewhere (uniqExact over cityHash64(recipient_id)); a collision among a
 * campaign list's million sends has a probability around 10^-7.
 */
export const RECIPIENT_KEY = 'cityHash64(campaign_id, recipient_id)'

/** The class condition of a traffic as p_recipient_traffic spells it; null for all traffic. */
const CLASS: Record<Traffic, string | null> = { human: `class = 'human'`, machine: `class != 'human'`, all: null }

/**
 * `count` or `min(ts)` over the events of a traffic and type, spelled exactly
 * as migration 0600's projection p_recipient_traffic stores it: ClickHouse matches a query's
 * aggregates to a projection's by their expression, so `countIf(type = 'open' AND 1)` would not
 * read it where `countIf(type = 'open')` does.
 */
export function trafficAggregate(fn: 'count' | 'min', traffic: Traffic, type: 'open' | 'click' | 'unsubscribe'): string {
  const cond = [`type = '${type}'`, CLASS[traffic]].filter((c) => c !== null).join(' AND ')
  return fn === 'count' ? `countIf(${cond})` : `minIf(ts, ${cond})`
}

/**
 * One row per (campaign, recipient) that opened or clicked within the window: counts, first
 * times and the links clicked. Invalid-token events (recipient_id = '') never reach it, so
 * every per-recipient figure leaves them out. `campaignClause` binds {campaign:String} or
 * {campaigns:Array(String)}; `clickLink` narrows clicks to {linkId:String}; `clickedLinks` adds
 * the array of links clicked.
 *
 * Rows are keyed by `h`, cityHash64(campaign_id, recipient_id) (RECIPIENT_KEY), but for the
 * clickedLinks form's campaign_id and recipient_id: joining a million sends to the facts on one
 * integer costs several times less than on two strings (the campaigns list: join 450 → 110 ms
 * CPU), and grouping the projection's rows by it less than by the two strings. The events are
 * grouped by the strings and hashed after: hashing every event costs more.
 *
 * Without a link option and without a time window, the aggregates and the WHERE on the
 * projection's keys alone let ClickHouse read p_recipient_traffic (migration 0600): one row per
 * recipient and part instead of every event. With a window it reads the events (ts is not a key
 * of the projection), narrowed to the opens and clicks of the traffic. The link options need
 * link_id, which the projection lacks: one GROUP BY (campaign, recipient) over the events.
 */
export function recipientFacts(db: string, w: EventWindow, campaignClause: string, opts: { clickLink?: boolean; clickedLinks?: boolean } = {}): { sql: string; params: Record<string, string> } {
  const time = timeClauses(w)
  const isClick = opts.clickLink ? `(type = 'click' AND link_id = {linkId:String})` : `type = 'click'`
  const narrow = `type IN ('open', 'click') AND ${trafficCondition(w.traffic)}`
  if (opts.clickLink || opts.clickedLinks) {
    return {
      sql: `SELECT ${opts.clickedLinks ? 'campaign_id, recipient_id' : `${RECIPIENT_KEY} AS h`},
        countIf(type = 'open') AS opens,
        countIf(${isClick}) AS clicks,
        minIf(ts, type = 'open') AS first_open,
        minIf(ts, ${isClick}) AS first_click${opts.clickedLinks ? `,
        groupUniqArrayIf(link_id, type = 'click') AS clicked_links` : ''}
      FROM ${db}.events
      WHERE ${campaignClause} AND recipient_id != '' AND ${narrow}${time.sql}
      GROUP BY campaign_id, recipient_id`,
      params: time.params,
    }
  }
  const windowed = w.from !== undefined || w.to !== undefined
  return {
    sql: `SELECT ${RECIPIENT_KEY} AS h,
        ${trafficAggregate('count', w.traffic, 'open')} AS opens,
        ${trafficAggregate('count', w.traffic, 'click')} AS clicks,
        ${trafficAggregate('min', w.traffic, 'open')} AS first_open,
        ${trafficAggregate('min', w.traffic, 'click')} AS first_click
      FROM ${db}.events
      WHERE ${campaignClause} AND recipient_id != ''${windowed ? ` AND ${narrow}${time.sql}` : ''}
      GROUP BY h
      HAVING opens > 0 OR clicks > 0`,
    params: time.params,
  }
}

/**
 * One row per recipient with any event of the campaign within the window, over all its events (all types
 * and classes): keyed by `rh`, cityHash64(recipient_id), with `invalid` set on the row of the
 * invalid tokens (the recipient ''); the columns of recipientFacts (opens, clicks, first_open,
 * first_click, for the selected traffic) and unsubscribes. Binds {campaign:String}. Without a time window it reads p_recipient_traffic (see
 * recipientFacts).
 */
export function campaignFacts(db: string, w: EventWindow): { sql: string; params: Record<string, string> } {
  const t = w.traffic
  const time = timeClauses(w)
  return {
    sql: `SELECT cityHash64(recipient_id) AS rh, recipient_id = '' AS invalid,
        ${trafficAggregate('count', t, 'open')} AS opens,
        ${trafficAggregate('count', t, 'click')} AS clicks,
        ${trafficAggregate('min', t, 'open')} AS first_open,
        ${trafficAggregate('min', t, 'click')} AS first_click,
        ${trafficAggregate('count', t, 'unsubscribe')} AS unsubscribes
      FROM ${db}.events
      WHERE campaign_id = {campaign:String}${time.sql}
      GROUP BY recipient_id`,
    params: time.params,
  }
}

/** `DateTime64` as returned by JSONEachRow ('YYYY-MM-DD hh:mm:ss.mmm', UTC) → ISO-8601. */
export function isoFromCh(v: string | null | undefined): string | null {
  if (!v || v.startsWith('1970-01-01 00:00:00')) return null
  return new Date(v.replace(' ', 'T') + 'Z').toISOString()
}

export const num = (v: unknown): number => Number(v ?? 0)

export const ratio = (n: number, d: number): number => (d > 0 ? n / d : 0)
