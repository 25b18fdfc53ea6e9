import { divDecimal, fixed, revenueInCurrency } from '../conversions/money.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'
import { PIXEL_LAST, timeClauses, type Traffic } from './sql.js'

/*
 * Which orders a campaign gets: the attribution rules as SQL, and the grouping of attributed
 * orders that the conversion metrics (summary, groups, per-campaign comparisons) share.
 */

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

/** Revenue per currency, decimal strings: exact with 4 decimals inside the metrics (`{EUR: "123.4500"}`), in the currency's own decimals once out (moneyFigures). */
export type Revenue = Record<string, string>

export type Dimension = 'variant' | 'segment'

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

/**
 * The money of a row of conversion figures, in each currency's own decimals (EUR "60.00", JPY "1000"):
 * revenue, revenue / sent, revenue / orders. Divided on the exact sums, then rounded once.
 */
export function moneyFigures(g: GroupRow | undefined, sent: number): { revenue: Revenue; revenuePerRecipient: Revenue; averageOrderValue: Revenue } {
  const revenue = g?.revenue ?? {}
  return {
    revenue: revenueInCurrency(revenue),
    revenuePerRecipient: revenueInCurrency(perEach(revenue, sent)),
    averageOrderValue: revenueInCurrency(Object.fromEntries(Object.entries(revenue).map(([cur, v]) => [cur, divDecimal(v, g?.orders[cur] ?? 0)]))),
  }
}

export interface GroupRow {
  key: string
  conversions: number
  converters: number
  revenue: Record<string, string>
  /** Orders per currency (the denominator of the average order value). */
  orders: Record<string, number>
}

export async function grouped(store: EventStore, campaignId: string, opts: AttributionOptions, keyExpr: string, join = ''): Promise<GroupRow[]> {
  return groupedOver(store, attributedConversionsSql(store.db, opts), { campaign: campaignId }, keyExpr, join)
}

/** Attributed orders (`a`) grouped by `keyExpr`: counts, converters, exact revenue and orders per currency. */
export async function groupedOver(
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
