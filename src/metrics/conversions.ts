import { addDecimal, divDecimal, fixed } from '../conversions/money.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'
import { PIXEL_LAST, timeClauses, trafficCondition, type Traffic } from './sql.js'
import { wilson, type Interval } from './statistics.js'

export const DAY_MS = 86_400_000
export const DEFAULT_WINDOW_MS = 7 * DAY_MS

/** What a conversion without a click id is attributed to: the recipient's last click, or last click or open. */
export type AttributionModel = 'click' | 'open'

export interface AttributionOptions {
  /** Recipient-only conversions look back this far for the last touch (default 7 days). */
  windowMs?: number | undefined
  model?: AttributionModel | undefined
  /** Which clicks make the clickers denominator (default human). Attribution touches are always human ones. */
  traffic?: Traffic | undefined
  /** Bounds on the conversion time (epoch ms; from inclusive, to exclusive). */
  from?: number | undefined
  to?: number | undefined
}

/** Revenue per currency, exact decimal strings with 4 decimals: `{EUR: "123.4500"}`. */
export type Revenue = Record<string, string>

export interface ConversionFigures {
  /** Orders attributed (each order id once). */
  total: number
  /** Distinct recipients among them. */
  converters: number
  /** converters / sent. */
  rate: number
  revenue: Revenue
}

/**
 * SQL of a campaign's attributed conversions, one row per order id:
 * `(order_id, ts, link_id, recipient_id, amount, currency, via)`.
 *
 * - A conversion carrying a click id (link_id set at ingest) belongs to that click's campaign and link.
 * - One carrying only a recipient id (link_id empty) belongs to the campaign of the recipient's last
 *   human click (or click or open) at or before the conversion and at most `window` earlier; when it
 *   named a campaign, only that campaign's touches count. link_id is then the last click's link ('' for an open).
 *   Ingest records those last touches on the row (src/conversions/ingest.ts, up to 90 days back); the
 *   window is applied here, so any window up to 90 days can be asked.
 * - An order posted twice counts once: the earliest row of each order id is kept, an authenticated
 *   one (POST /v1/conversions) before any from the public pixel (see ConversionSource).
 * Binds {campaign:String}; the caller adds the returned params ({touchKey}, {window}, {from}, {to}).
 */
export function attributedConversionsSql(db: string, opts: AttributionOptions = {}): { sql: string; params: Record<string, unknown> } {
  const t = timeClauses({ from: opts.from, to: opts.to })
  const sql = `
  conv AS (
    SELECT order_id, ts, campaign_id, link_id, recipient_id, amount, currency, extra
    FROM ${db}.events
    WHERE type = 'conversion'
      AND (campaign_id = {campaign:String} OR (campaign_id = '' AND link_id = '' AND recipient_id != ''))${t.sql}
    ORDER BY order_id, ${PIXEL_LAST}, ts, event_id
    LIMIT 1 BY order_id
  ),
  attributed AS (
    SELECT order_id, ts, link_id, recipient_id, amount, currency, 'click_id' AS via FROM conv WHERE link_id != ''
    UNION ALL
    SELECT order_id, ts, t_link AS link_id, recipient_id, amount, currency, 'recipient' AS via
    FROM (
      SELECT order_id, ts, recipient_id, amount, currency, JSONExtractString(extra, {touchKey:String}, 'link') AS t_link
      FROM conv
      WHERE link_id = '' AND recipient_id != ''
        AND JSONExtractString(extra, {touchKey:String}, 'campaign') = {campaign:String}
        AND JSONExtractInt(extra, {touchKey:String}, 'ts') >= toUnixTimestamp64Milli(ts) - {window:Int64}
    )
  )`
  return { sql, params: { ...t.params, touchKey: opts.model === 'open' ? 'lastTouch' : 'lastClick', window: Math.round(opts.windowMs ?? DEFAULT_WINDOW_MS) } }
}

/**
 * attributedConversionsSql for several campaigns in one query: `attributed` gains `for_campaign`,
 * and each campaign's rows are exactly the ones the one-campaign SQL gives it. A recipient-only
 * row is a candidate for every campaign (it may lose its order's dedup to that campaign's own row,
 * or win it and then be dropped), so those rows are repeated per campaign, after leaving out the
 * orders none of the campaigns can get (no row of theirs, no touch of theirs): these count for none
 * of them either way. Binds {campaigns:Array(String)}; the caller adds the returned params.
 */
export function attributedConversionsManySql(db: string, opts: AttributionOptions = {}): { sql: string; params: Record<string, unknown> } {
  const t = timeClauses({ from: opts.from, to: opts.to })
  const touch = (field: string) => `JSONExtractString(extra, {touchKey:String}, '${field}')`
  const recipientOnly = `campaign_id = '' AND link_id = '' AND recipient_id != ''`
  const columns = `order_id, ts, event_id, method, link_id, recipient_id, amount, currency, ${touch('campaign')} AS t_campaign, ${touch('link')} AS t_link,
        JSONExtractInt(extra, {touchKey:String}, 'ts') AS t_ts`
  const sql = `
  conv AS (
    SELECT * FROM (
      SELECT campaign_id AS for_campaign, ${columns}
      FROM ${db}.events
      WHERE type = 'conversion' AND campaign_id IN {campaigns:Array(String)}${t.sql}
      UNION ALL
      SELECT for_campaign, order_id, ts, event_id, method, link_id, recipient_id, amount, currency, t_campaign, t_link, t_ts
      FROM (
        SELECT ${columns}
        FROM ${db}.events
        WHERE type = 'conversion' AND ${recipientOnly}${t.sql}
          AND order_id IN (
            SELECT order_id FROM ${db}.events
            WHERE type = 'conversion'
              AND (campaign_id IN {campaigns:Array(String)} OR (${recipientOnly} AND ${touch('campaign')} IN {campaigns:Array(String)}))${t.sql}
          )
      )
      ARRAY JOIN {campaigns:Array(String)} AS for_campaign
    )
    ORDER BY for_campaign, order_id, ${PIXEL_LAST}, ts, event_id
    LIMIT 1 BY for_campaign, order_id
  ),
  attributed AS (
    SELECT for_campaign, order_id, ts, link_id, recipient_id, amount, currency, 'click_id' AS via FROM conv WHERE link_id != ''
    UNION ALL
    SELECT for_campaign, order_id, ts, t_link AS link_id, recipient_id, amount, currency, 'recipient' AS via
    -- In a subquery: the alias link_id would otherwise be what the condition on link_id reads.
    FROM (SELECT * FROM conv WHERE link_id = '' AND recipient_id != '' AND t_campaign = for_campaign AND t_ts >= toUnixTimestamp64Milli(ts) - {window:Int64})
  )`
  return { sql, params: { ...t.params, touchKey: opts.model === 'open' ? 'lastTouch' : 'lastClick', window: Math.round(opts.windowMs ?? DEFAULT_WINDOW_MS) } }
}

function revenueOf(m: Record<string, string> | undefined): Revenue {
  const out: Revenue = {}
  for (const [c, v] of Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b))) if (c) out[c] = fixed(String(v))
  return out
}

const perEach = (r: Revenue, n: number): Revenue => Object.fromEntries(Object.entries(r).map(([c, v]) => [c, divDecimal(v, n)]))


export interface GroupRow {
  key: string
  conversions: number
  converters: number
  revenue: Record<string, string>
  /** Orders per currency (the denominator of the average order value). */
  orders: Record<string, number>
}

async function grouped(store: EventStore, campaignId: string, opts: AttributionOptions, keyExpr: string, join = ''): Promise<GroupRow[]> {
  return groupedOver(store, attributedConversionsSql(store.db, opts), { campaign: campaignId }, keyExpr, join)
}

/** Attributed orders (`a`) grouped by `keyExpr`: counts, converters, exact revenue and orders per currency. */
async function groupedOver(
  store: EventStore,
  a: { sql: string; params: Record<string, unknown> },
  bind: Record<string, unknown>,
  keyExpr: string,
  join: string,
  settings = '',
): Promise<GroupRow[]> {
  const rows = await queryRows<GroupRow>(
    store,
    `WITH ${a.sql}
     SELECT ${keyExpr} AS key, count() AS conversions, uniqExactIf(a.recipient_id, a.recipient_id != '') AS converters,
            sumMapIf(map(a.currency, a.amount), a.currency != '') AS revenue,
            sumMapIf(map(a.currency, toUInt64(1)), a.currency != '') AS orders
     FROM attributed AS a ${join}
     GROUP BY key${settings}`,
    { ...bind, ...a.params },
  )
  return rows.map((r) => ({
    key: String(r.key),
    conversions: Number(r.conversions),
    converters: Number(r.converters),
    revenue: revenueOf(r.revenue),
    orders: Object.fromEntries(Object.entries(r.orders ?? {}).map(([k, v]) => [k, Number(v)])),
  }))
}

/**
 * The `conversions` object of campaign, link, segment and variant metrics. Rates are fractions with
 * their denominators stated: `rate` = converters / sent, `clickerRate` = converters / clickers.
 */
export interface ConversionBlock extends ConversionFigures {
  clickers: number
  clickerRate: number
  /** revenue / sent, per currency. */
  revenuePerRecipient: Revenue
  /** revenue / orders in that currency. */
  averageOrderValue: Revenue
}

export function conversionBlock(g: GroupRow | undefined, sent: number, clickers: number): ConversionBlock {
  const converters = g?.converters ?? 0
  const revenue = g?.revenue ?? {}
  return {
    total: g?.conversions ?? 0,
    converters,
    rate: sent > 0 ? converters / sent : 0,
    clickers,
    clickerRate: clickers > 0 ? converters / clickers : 0,
    revenue,
    revenuePerRecipient: perEach(revenue, sent),
    averageOrderValue: Object.fromEntries(Object.entries(revenue).map(([cur, v]) => [cur, divDecimal(v, g?.orders[cur] ?? 0)])),
  }
}

/**
 * The `conversions` object of campaign stats: `{total, converters, rate (converters / sent), revenue, …}`.
 * `candidates` (from conversionCandidates, for the same options) spares the query of a campaign
 * no conversion can be attributed to: it gets the empty block the query would have given.
 */
export async function conversionSummary(
  store: EventStore,
  campaignId: string,
  sent: number,
  opts: AttributionOptions & { clickers?: number; candidates?: ReadonlySet<string> } = {},
): Promise<ConversionBlock> {
  const totals = opts.candidates && !opts.candidates.has(campaignId) ? undefined : await conversionTotals(store, campaignId, opts)
  return conversionBlock(totals, sent, opts.clickers ?? 0)
}

/**
 * Which of `campaignIds` any conversion could be attributed to (attributedConversionsSql's
 * rules): one carrying the campaign, or a recipient-only one whose recorded last touch names
 * it. Any other campaign's attributed set is empty: its candidate rows are only recipient-only
 * conversions touching other campaigns, which attribution drops. One query for a page of
 * campaigns instead of one per campaign (the campaigns list: ~8 ms each, with or without
 * conversions).
 */
export async function conversionCandidates(store: EventStore, campaignIds: string[], opts: AttributionOptions = {}): Promise<Set<string>> {
  if (campaignIds.length === 0) return new Set()
  const a = attributedConversionsSql(store.db, opts)
  const t = timeClauses({ from: opts.from, to: opts.to })
  const rows = await queryRows<{ c: string }>(
    store,
    `SELECT DISTINCT if(campaign_id != '', campaign_id, JSONExtractString(extra, {touchKey:String}, 'campaign')) AS c
     FROM ${store.db}.events
     WHERE type = 'conversion'
       AND (campaign_id IN {campaigns:Array(String)} OR (campaign_id = '' AND link_id = '' AND recipient_id != ''))${t.sql}`,
    { campaigns: campaignIds, touchKey: a.params.touchKey, ...t.params },
  )
  const wanted = new Set(campaignIds)
  return new Set(rows.map((r) => r.c).filter((c) => wanted.has(c)))
}

/** A campaign's attributed conversions in one row (undefined when none). */
export async function conversionTotals(store: EventStore, campaignId: string, opts: AttributionOptions = {}): Promise<GroupRow | undefined> {
  return (await grouped(store, campaignId, opts, `''`))[0]
}

/** One attributed order with the converter's send (`hasSend` false for a converter the campaign was never sent to). */
export interface AttributedOrder {
  linkId: string
  recipientId: string
  amount: string
  currency: string
  hasSend: boolean
  variant: string
  segments: string[]
  /** The value of the attribute asked for ('' when the send lacks it or none was asked). */
  attribute: string
}

/**
 * A campaign's attributed orders, each with its send's variant, segments and (optionally) one
 * attribute: few rows (conversions are rare), so callers group them any way and sum exactly.
 */
export async function attributedOrders(store: EventStore, campaignId: string, opts: AttributionOptions = {}, attribute?: string): Promise<AttributedOrder[]> {
  const a = attributedConversionsSql(store.db, opts)
  const rows = await queryRows<{ link_id: string; recipient_id: string; amount: string; currency: string; variant: string; segments: string[]; attribute: string; sent: number }>(
    store,
    `WITH ${a.sql}
     SELECT a.link_id AS link_id, a.recipient_id AS recipient_id, toString(a.amount) AS amount, a.currency AS currency,
            s.variant AS variant, s.segments AS segments, ${attribute === undefined ? `''` : 's.attributes[{attr:String}]'} AS attribute, s.recipient_id != '' AS sent
     FROM attributed AS a
     LEFT JOIN (SELECT recipient_id, variant, segments${attribute === undefined ? '' : ', attributes'} FROM ${store.db}.sends FINAL WHERE campaign_id = {campaign:String}) AS s
       ON s.recipient_id = a.recipient_id`,
    { campaign: campaignId, ...a.params, ...(attribute === undefined ? {} : { attr: attribute }) },
  )
  return rows.map((r) => ({
    linkId: r.link_id,
    recipientId: r.recipient_id,
    amount: r.amount,
    currency: r.currency,
    hasSend: Boolean(Number(r.sent)),
    variant: r.variant,
    segments: r.segments,
    attribute: r.attribute,
  }))
}

/** Orders grouped under the keys each belongs to (none, one, or several: a recipient in two segments), summed exactly. */
export function groupOrders(orders: AttributedOrder[], keysOf: (o: AttributedOrder) => readonly string[]): Map<string, GroupRow> {
  const tallies = new Map<string, Tally>()
  for (const o of orders) for (const k of keysOf(o)) tallyIn(tallies, k).add(o.recipientId, o.amount, o.currency)
  return new Map([...tallies.entries()].map(([k, t]) => [k, t.group(k)]))
}

export type Dimension = 'variant' | 'segment'

/**
 * Conversions per variant or segment of the converter's send (a recipient in two segments counts in both);
 * `by` null: the campaign's converters with a send, under key ''.
 */
export async function conversionsByDimension(store: EventStore, campaignId: string, by: Dimension | null, opts: AttributionOptions = {}): Promise<Map<string, GroupRow>> {
  const join = `INNER JOIN (SELECT recipient_id, variant, segments FROM ${store.db}.sends FINAL WHERE campaign_id = {campaign:String}) AS s ON s.recipient_id = a.recipient_id`
  const rows = await grouped(store, campaignId, opts, by === null ? `''` : by === 'variant' ? 's.variant' : 'arrayJoin(if(empty(s.segments), [\'\'], s.segments))', join)
  return new Map(rows.map((r) => [r.key, r]))
}

export interface Denominators {
  key: string
  sent: number
  clickers: number
}

/**
 * The clicks whose recipients are the clickers denominator: the selected traffic's, within the same
 * from/to as the conversions (so converters / clickers compares like with like, as /stats does).
 * Binds {campaign:String}.
 */
function clicksWhere(opts: AttributionOptions, campaigns = 'campaign_id = {campaign:String}'): { sql: string; params: Record<string, string> } {
  const time = timeClauses(opts)
  return { sql: `${campaigns} AND type = 'click' AND recipient_id != '' AND ${trafficCondition(opts.traffic ?? 'human')}${time.sql}`, params: time.params }
}

/** Sent and unique clickers of a campaign (see clicksWhere), overall or per variant/segment. */
export async function denominators(store: EventStore, campaignId: string, by: Dimension | null, opts: AttributionOptions = {}): Promise<Denominators[]> {
  const key = by === null ? `''` : by === 'variant' ? 'variant' : `arrayJoin(if(empty(segments), [''], segments))`
  const clicks = clicksWhere(opts)
  const rows = await queryRows<{ key: string; sent: number; clickers: number }>(
    store,
    `SELECT ${key} AS key, count() AS sent,
            countIf(recipient_id IN (SELECT recipient_id FROM ${store.db}.events WHERE ${clicks.sql})) AS clickers
     FROM ${store.db}.sends FINAL
     WHERE campaign_id = {campaign:String}
     GROUP BY key`,
    { campaign: campaignId, ...clicks.params },
  )
  return rows.map((r) => ({ key: String(r.key), sent: Number(r.sent), clickers: Number(r.clickers) }))
}

/**
 * Several campaigns at once, one group per campaign (key: the campaign id): what
 * conversionsByDimension and denominators give each campaign with `by` null, in one query each
 * instead of one per campaign. Campaigns without sends have no row.
 */
export async function conversionsByCampaign(store: EventStore, campaignIds: string[], opts: AttributionOptions = {}): Promise<Map<string, GroupRow>> {
  const join = `INNER JOIN (SELECT campaign_id, recipient_id FROM ${store.db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}) AS s
     ON s.campaign_id = a.for_campaign AND s.recipient_id = a.recipient_id`
  // The hash table from the attributed orders (few), not from the sends of every campaign: 295 -> 90 ms
  // for 10 campaigns of 100 k sends on the bench (the planner's own choice built it from the sends).
  const rows = await groupedOver(store, attributedConversionsManySql(store.db, opts), { campaigns: campaignIds }, 'a.for_campaign', join, ` SETTINGS query_plan_join_swap_table = 'true'`)
  return new Map(rows.map((r) => [r.key, r]))
}

/**
 * Sent and unique clickers per campaign (see conversionsByCampaign). A (campaign, recipient) pair
 * is one string (campaign ids hold no NUL): a set of strings is built and probed about three
 * times as fast as one of tuples here (140 against 420 ms for 10 campaigns on the bench).
 */
export async function denominatorsByCampaign(store: EventStore, campaignIds: string[], opts: AttributionOptions = {}): Promise<Map<string, Denominators>> {
  const clicks = clicksWhere(opts, 'campaign_id IN {campaigns:Array(String)}')
  const rows = await queryRows<{ key: string; sent: number; clickers: number }>(
    store,
    `SELECT campaign_id AS key, count() AS sent,
            countIf(concat(campaign_id, '\\0', recipient_id) IN (SELECT concat(campaign_id, '\\0', recipient_id) FROM ${store.db}.events WHERE ${clicks.sql})) AS clickers
     FROM ${store.db}.sends FINAL
     WHERE campaign_id IN {campaigns:Array(String)}
     GROUP BY key`,
    { campaigns: campaignIds, ...clicks.params },
  )
  return new Map(rows.map((r) => [String(r.key), { key: String(r.key), sent: Number(r.sent), clickers: Number(r.clickers) }]))
}

export interface ConversionRow {
  key: string
  sent: number
  clickers: number
  conversions: number
  converters: number
  /** converters / sent, with its 95% Wilson interval. */
  conversionRate: Interval & { numerator: 'converters'; denominator: 'sent' }
  /** converters / clickers. */
  clickerConversionRate: Interval & { numerator: 'converters'; denominator: 'clickers' }
  revenue: Revenue
  revenuePerRecipient: Revenue
  averageOrderValue: Revenue
}

function shape(key: string, d: { sent: number; clickers: number }, g: GroupRow | undefined): ConversionRow {
  const conversions = g?.conversions ?? 0
  const converters = g?.converters ?? 0
  const revenue = g?.revenue ?? {}
  return {
    key,
    sent: d.sent,
    clickers: d.clickers,
    conversions,
    converters,
    conversionRate: { ...wilson(Math.min(converters, d.sent), d.sent), numerator: 'converters', denominator: 'sent' },
    clickerConversionRate: { ...wilson(Math.min(converters, d.clickers), d.clickers), numerator: 'converters', denominator: 'clickers' },
    revenue,
    revenuePerRecipient: perEach(revenue, d.sent),
    averageOrderValue: Object.fromEntries(Object.entries(revenue).map(([cur, v]) => [cur, divDecimal(v, g?.orders[cur] ?? 0)])),
  }
}

export interface CampaignConversions {
  campaignId: string
  attribution: { model: AttributionModel; windowDays: number; method: string }
  totals: ConversionRow
  byLink: Array<ConversionRow & { linkId: string }>
  byVariant: ConversionRow[]
  bySegment: ConversionRow[]
}

export const ATTRIBUTION_METHOD =
  'A conversion with a click id counts for that click (campaign, link, recipient). One with only a recipient id counts for the campaign of ' +
  "the recipient's last human click (model=click) or click or open (model=open) at most windowDays before it; an order id counts once."

class Tally {
  conversions = 0
  private readonly recipients = new Set<string>()
  revenue: Revenue = {}
  orders: Record<string, number> = {}

  add(recipientId: string, amount: string, currency: string): void {
    this.conversions++
    if (recipientId) this.recipients.add(recipientId)
    if (currency) {
      this.revenue[currency] = this.revenue[currency] ? addDecimal(this.revenue[currency]!, amount) : fixed(amount)
      this.orders[currency] = (this.orders[currency] ?? 0) + 1
    }
  }

  group(key: string): GroupRow {
    const revenue = Object.fromEntries(Object.entries(this.revenue).sort(([a], [b]) => a.localeCompare(b)))
    return { key, conversions: this.conversions, converters: this.recipients.size, revenue, orders: this.orders }
  }
}

function tallyIn(m: Map<string, Tally>, key: string): Tally {
  let t = m.get(key)
  if (!t) m.set(key, (t = new Tally()))
  return t
}

/**
 * Everything GET /v1/campaigns/:id/conversions answers, in three queries: the attributed orders with
 * their send's variant and segments (few rows: conversions are rare; summed exactly here), the
 * send counts per (variant, segments) combination, and the clickers per link.
 */
export async function campaignConversions(store: EventStore, campaignId: string, linkIds: string[], opts: AttributionOptions = {}): Promise<CampaignConversions> {
  const clicks = clicksWhere(opts)
  const [orders, combos, linkClickers] = await Promise.all([
    attributedOrders(store, campaignId, opts),
    queryRows<{ variant: string; segments: string[]; sent: number; clickers: number }>(
      store,
      `SELECT variant, segments, count() AS sent, countIf(recipient_id IN (SELECT recipient_id FROM ${store.db}.events WHERE ${clicks.sql})) AS clickers
       FROM ${store.db}.sends FINAL WHERE campaign_id = {campaign:String}
       GROUP BY variant, segments`,
      { campaign: campaignId, ...clicks.params },
    ),
    linkClickerCounts(store, campaignId, clicks),
  ])
  const total = new Tally()
  const byLink = new Map<string, Tally>()
  const byVariant = new Map<string, Tally>()
  const bySegment = new Map<string, Tally>()
  for (const o of orders) {
    total.add(o.recipientId, o.amount, o.currency)
    tallyIn(byLink, o.linkId).add(o.recipientId, o.amount, o.currency)
    // Converters without a send row (a forwarded e-mail) count in the totals, not in a variant or segment.
    if (!o.hasSend) continue
    tallyIn(byVariant, o.variant).add(o.recipientId, o.amount, o.currency)
    for (const seg of o.segments.length ? o.segments : ['']) tallyIn(bySegment, seg).add(o.recipientId, o.amount, o.currency)
  }
  const sent = { sent: 0, clickers: 0 }
  const dVariant = new Map<string, { sent: number; clickers: number }>()
  const dSegment = new Map<string, { sent: number; clickers: number }>()
  for (const c of combos) {
    const n = Number(c.sent)
    const k = Number(c.clickers)
    sent.sent += n
    sent.clickers += k
    for (const [m, key] of [[dVariant, c.variant], ...(c.segments.length ? c.segments : ['']).map((sg) => [dSegment, sg] as const)] as const) {
      const d = m.get(key) ?? { sent: 0, clickers: 0 }
      d.sent += n
      d.clickers += k
      m.set(key, d)
    }
  }
  const links = [...new Set([...linkIds, ...[...byLink.keys()].filter((k) => k !== '')])]
  const rows = (d: Map<string, { sent: number; clickers: number }>, g: Map<string, Tally>) =>
    [...d.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([key, den]) => shape(key, den, g.get(key)?.group(key)))
  return {
    campaignId,
    attribution: { model: opts.model ?? 'click', windowDays: (opts.windowMs ?? DEFAULT_WINDOW_MS) / DAY_MS, method: ATTRIBUTION_METHOD },
    totals: shape('', sent, total.group('')),
    byLink: links.map((id) => ({ linkId: id, ...shape(id, { sent: sent.sent, clickers: linkClickers.get(id) ?? 0 }, byLink.get(id)?.group(id)) })),
    byVariant: rows(dVariant, byVariant),
    bySegment: rows(dSegment, bySegment),
  }
}

async function linkClickerCounts(store: EventStore, campaignId: string, clicks: { sql: string; params: Record<string, string> }): Promise<Map<string, number>> {
  const rows = await queryRows<{ link_id: string; n: number }>(
    store,
    `SELECT link_id, uniqExact(recipient_id) AS n FROM ${store.db}.events
     WHERE ${clicks.sql}
     GROUP BY link_id`,
    { campaign: campaignId, ...clicks.params },
  )
  return new Map(rows.map((r) => [r.link_id, Number(r.n)]))
}


/**
 * Audience filter: a condition on the outer query's `recipient_id` column, true for recipients with
 * (converted) or without (not converted) a conversion attributed to the campaign bound as {campaign:String}.
 * With `withinMs`, only conversions at most that long after the recipient's send count
 * ("clicked link 2 but did not buy within a week": `clicked … AND <convertedFilterSql({converted: false, withinMs: 7d})>`).
 * Binds {touchKey:String} and {window:Int64} besides {campaign:String}: merge the params into the query's.
 */
export function convertedFilterSql(db: string, opts: { converted: boolean; withinMs?: number | undefined; attribution?: Omit<AttributionOptions, 'from' | 'to'> }): { sql: string; params: Record<string, unknown> } {
  const a = attributedConversionsSql(db, { ...opts.attribution, from: undefined, to: undefined })
  const within =
    opts.withinMs === undefined
      ? ''
      : ` INNER JOIN (SELECT recipient_id, sent_at FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}) AS cs ON cs.recipient_id = a.recipient_id
          WHERE a.ts >= cs.sent_at AND a.ts <= cs.sent_at + toIntervalMillisecond({convertedWithin:UInt64})`
  const sql = `recipient_id ${opts.converted ? 'IN' : 'NOT IN'} (WITH ${a.sql} SELECT a.recipient_id FROM attributed AS a${within})`
  return { sql, params: { ...a.params, ...(opts.withinMs === undefined ? {} : { convertedWithin: Math.round(opts.withinMs) }) } }
}

export interface TimelineConversion {
  orderId: string
  at: string
  type: string
  amount: string
  currency: string
  attribution: 'click' | 'recipient' | 'unattributed'
  /** The touch that led to it: the click of its click id, or the last click (or open) within the window. */
  touch: { type: 'click' | 'open'; campaignId: string; linkId: string; at: string | null } | null
}

/**
 * How one stored conversion row is attributed, and the touch that led to it: for a timeline that
 * already reads the row (`campaign_id`, `link_id`, `extra`, `ts`), no further query.
 */
export function conversionTouch(
  row: { at: number; campaignId: string; linkId: string; extra: string },
  opts: Pick<AttributionOptions, 'windowMs' | 'model'> = {},
): Pick<TimelineConversion, 'attribution' | 'touch'> {
  let extra: { clickTs?: number; lastClick?: { campaign: string; link: string; ts: number; type: string }; lastTouch?: { campaign: string; link: string; ts: number; type: string } } = {}
  try {
    extra = row.extra ? JSON.parse(row.extra) : {}
  } catch {
    extra = {}
  }
  if (row.linkId) {
    return { attribution: 'click', touch: { type: 'click', campaignId: row.campaignId, linkId: row.linkId, at: extra.clickTs ? new Date(extra.clickTs).toISOString() : null } }
  }
  const t = opts.model === 'open' ? extra.lastTouch : extra.lastClick
  if (t && t.campaign && t.ts >= row.at - (opts.windowMs ?? DEFAULT_WINDOW_MS)) {
    return { attribution: 'recipient', touch: { type: t.type === 'open' ? 'open' : 'click', campaignId: t.campaign, linkId: t.link, at: new Date(t.ts).toISOString() } }
  }
  return { attribution: 'unattributed', touch: null }
}

export interface RevenueMoments {
  key: string
  /** Recipients sent (each one a trial, zero revenue when no attributed order). */
  n: number
  /** Sum and sum of squares of per-recipient revenue, as floats: for the test statistic only, never reported as money. */
  sum: number
  sumSquares: number
}

/** Per variant or segment (or the whole campaign, key '', when `by` is null), the moments of revenue per recipient in one currency (for a Welch test). */
export async function revenueMoments(store: EventStore, campaignId: string, by: Dimension | null, currency: string, opts: AttributionOptions = {}): Promise<RevenueMoments[]> {
  const key = by === null ? `''` : by === 'variant' ? 's.variant' : `arrayJoin(if(empty(s.segments), [''], s.segments))`
  return momentsOver(store, attributedConversionsSql(store.db, opts), { campaign: campaignId, currency }, {
    key,
    sends: `SELECT recipient_id, variant, segments FROM ${store.db}.sends FINAL WHERE campaign_id = {campaign:String}`,
    perRecipient: 'recipient_id',
    on: 'r.recipient_id = s.recipient_id',
  })
}

/** revenueMoments of several campaigns with `by` null, one query: key the campaign id. */
export async function revenueMomentsByCampaign(store: EventStore, campaignIds: string[], currency: string, opts: AttributionOptions = {}): Promise<RevenueMoments[]> {
  return momentsOver(store, attributedConversionsManySql(store.db, opts), { campaigns: campaignIds, currency }, {
    key: 's.campaign_id',
    sends: `SELECT campaign_id, recipient_id FROM ${store.db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}`,
    perRecipient: 'for_campaign, recipient_id',
    on: 'r.for_campaign = s.campaign_id AND r.recipient_id = s.recipient_id',
  })
}

async function momentsOver(
  store: EventStore,
  a: { sql: string; params: Record<string, unknown> },
  bind: Record<string, unknown>,
  q: { key: string; sends: string; perRecipient: string; on: string },
): Promise<RevenueMoments[]> {
  const rows = await queryRows<{ key: string; n: number; total: number; sq: number }>(
    store,
    `WITH ${a.sql}
     SELECT ${q.key} AS key, count() AS n, sum(r.v) AS total, sum(r.v * r.v) AS sq
     FROM (${q.sends}) AS s
     LEFT JOIN (SELECT ${q.perRecipient}, toFloat64(sum(amount)) AS v FROM attributed WHERE currency = {currency:String} AND recipient_id != '' GROUP BY ${q.perRecipient}) AS r
       ON ${q.on}
     GROUP BY key ORDER BY key`,
    { ...bind, ...a.params },
  )
  return rows.map((r) => ({ key: String(r.key), n: Number(r.n), sum: Number(r.total), sumSquares: Number(r.sq) }))
}
