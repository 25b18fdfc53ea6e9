import { revenueInCurrency } from '../conversions/money.js'
import { chDateTime, type EventStore, queryRows } from '../store/clickhouse.js'
import { attributedConversionsSql, DAY_MS, type Revenue } from './attribution.js'
import { STAGES, stageParams, stageSql, stageThresholds, type Stage, type StageThresholds } from './stages.js'
import { wilson } from './statistics.js'

/*
 * What customers buy, from the line items of their purchases (`items` of POST /v1/conversions, kept in
 * the purchases table, from the event's extra JSON). A product is its sku (its name when it has no sku); a category its category.
 */

export type PurchaseKey = 'product' | 'category'

/** A field of an item as text, whether it was given as a JSON string or a number. */
const field = (item: string, name: string) => `if(JSONType(${item}, '${name}') = 'String', JSONExtractString(${item}, '${name}'), JSONExtractRaw(${item}, '${name}'))`

const keySql = (by: PurchaseKey, item: string) =>
  by === 'product' ? `if(${field(item, 'sku')} != '', ${field(item, 'sku')}, ${field(item, 'name')})` : field(item, 'category')

/** Quantity defaults to 1; price is per unit; a line is worth price × quantity in the order's currency. */
const quantitySql = (item: string) => `if(JSONHas(${item}, 'quantity'), toUInt64OrZero(${field(item, 'quantity')}), 1)`
const lineSql = (item: string) => `toDecimal128OrZero(${field(item, 'price')}, 4) * ${quantitySql(item)}`

export type OrderStage = Stage | 'first'
export const ORDER_STAGES: readonly OrderStage[] = ['first', ...STAGES]

export interface TopOptions extends Partial<StageThresholds> {
  by: PurchaseKey
  kind: string
  /** Order time bounds (epoch ms; from inclusive, to exclusive); to defaults to now. */
  from?: number | undefined
  to: number
  campaignId?: string | undefined
  stage?: OrderStage | undefined
  limit: number
}

export interface TopRow {
  key: string
  /** The product's name (the most frequent among its lines); null for a category. */
  name: string | null
  orders: number
  buyers: number
  quantity: number
  revenue: Revenue
  ordersByStage: Record<OrderStage, number>
}

export const PURCHASES_METHOD = {
  top:
    'Purchases (each order id once) whose line items name the product (sku, else name) or category; orders and buyers count each order and ' +
    'recipient once per key; quantity sums the lines (1 when absent); revenue sums price × quantity per currency of the order, exact (line prices, ' +
    'not the order amount: shipping and discounts are not in them). ordersByStage: the buyer\'s lifecycle stage just before the order, from the ' +
    'earlier purchases (first: none before), with the thresholds of /v1/lifecycle.',
  next:
    'Buyers of `after` (recipients whose purchases name it); for each, the first order naming it and the next order after it (strictly later in ' +
    'time, ties by order id). share = buyers whose next order names the key / buyers of `after`, Wilson 95% interval; days from the order to ' +
    'the next one, median and quartiles by linear interpolation (type 7).',
}

/** GET /v1/purchases/top. */
export async function topPurchases(store: EventStore, o: TopOptions): Promise<{ rows: TopRow[]; orders: number }> {
  const t = stageThresholds(o)
  const db = store.db
  const attributed = o.campaignId ? attributedConversionsSql(db, { from: o.from, to: o.to }) : null
  // The stage before each order needs every earlier order of its buyer: computed over the narrow columns
  // only, then joined to the line items of the orders in the window. Carrying `items` through the window
  // functions' sort, and evaluating the whole chain a second time for the total, cost ≈ 30 s of CPU on
  // 5 M orders (bench/lifecycle.ts); the total is now the grand-total grouping set of the same
  // grouping (key '', sorted first; real keys are never empty).
  const all = await queryRows<{ key: string; name: string; orders: number; buyers: number; quantity: number; revenue: Record<string, string>; stages: Record<string, number> }>(
    store,
    `WITH ${attributed ? `${attributed.sql},` : ''}
     staged AS (
       SELECT recipient_id, order_id, if(prev = 0, 'first', ${stageSql('ms', 'first', 'prev')}) AS stage
       FROM (
         SELECT recipient_id, order_id, ms, min(ms) OVER w AS first, lagInFrame(ms, 1, toInt64(0)) OVER w AS prev
         FROM (SELECT recipient_id, order_id, toUnixTimestamp64Milli(ts) AS ms FROM ${db}.purchases FINAL
               WHERE kind = {kind:String} AND ts < toDateTime64({to:String}, 3, 'UTC'))
         -- One sort for both (the frame is the whole partition, so min is the buyer's first order).
         WINDOW w AS (PARTITION BY recipient_id ORDER BY ms, order_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
       )
       WHERE ms >= {fromMs:Int64}
         ${o.stage ? 'AND stage = {stage:String}' : ''}
         ${attributed ? 'AND order_id IN (SELECT order_id FROM attributed)' : ''}
     ),
     lines AS (
       SELECT order_id, recipient_id, currency, stage, ${keySql(o.by, 'item')} AS key, ${field('item', 'name')} AS name,
              ${quantitySql('item')} AS quantity, ${lineSql('item')} AS line
       FROM (SELECT recipient_id, order_id, currency, items FROM ${db}.purchases FINAL
             WHERE kind = {kind:String} AND ts >= toDateTime64({from:String}, 3, 'UTC') AND ts < toDateTime64({to:String}, 3, 'UTC')) AS p
       INNER JOIN staged AS s USING (recipient_id, order_id)
       ARRAY JOIN JSONExtractArrayRaw(items) AS item
     )
     SELECT key, topK(1)(name)[1] AS name, uniqExact(order_id) AS orders, uniqExact(recipient_id) AS buyers, sum(quantity) AS quantity,
            mapApply((c, v) -> (c, toString(v)), sumMapIf(map(currency, line), currency != '')) AS revenue,
            mapApply((s, n) -> (s, toUInt64(n)), sumMap(map(stage, 1))) AS stages
     FROM (SELECT key, any(name) AS name, order_id, any(recipient_id) AS recipient_id, any(currency) AS currency, any(stage) AS stage,
                  sum(quantity) AS quantity, sum(line) AS line
           FROM lines WHERE key != '' GROUP BY key, order_id)
     GROUP BY GROUPING SETS ((key), ())
     ORDER BY key != '', orders DESC, buyers DESC, key
     LIMIT {limit:UInt32} + 1`,
    {
      kind: o.kind,
      from: chDateTime(o.from ?? 0),
      fromMs: o.from ?? 0,
      to: chDateTime(o.to),
      limit: o.limit,
      ...stageParams(t),
      ...(o.stage ? { stage: o.stage } : {}),
      ...(attributed ? { ...attributed.params, campaign: o.campaignId } : {}),
    },
  )
  const total = all[0]?.key === '' ? all[0] : undefined
  const rows = all.filter((r) => r.key !== '')
  return {
    orders: Number(total?.orders ?? 0),
    rows: rows.map((r) => ({
      key: r.key,
      name: o.by === 'product' ? r.name : null,
      orders: Number(r.orders),
      buyers: Number(r.buyers),
      quantity: Number(r.quantity),
      revenue: revenueInCurrency(r.revenue),
      ordersByStage: Object.fromEntries(ORDER_STAGES.map((s) => [s, Number(r.stages[s] ?? 0)])) as Record<OrderStage, number>,
    })),
  }
}

export interface NextOptions {
  by: PurchaseKey
  after: string
  kind: string
  to: number
  limit: number
}

export interface NextRow {
  key: string
  name: string | null
  buyers: number
  share: number
  low: number
  high: number
  days: { median: number; p25: number; p75: number }
}

export interface NextPurchases {
  after: string
  by: PurchaseKey
  /** Recipients who bought `after`. */
  buyers: number
  /** Among them, those with a later order. */
  returned: number
  next: NextRow[]
  method: string
}

/** GET /v1/purchases/next. */
export async function nextPurchases(store: EventStore, o: NextOptions): Promise<NextPurchases> {
  const db = store.db
  // Only recipients with a purchases row whose items' text holds `after` can be its buyers (a key is a string or a number
  // as written in the JSON): their orders alone are parsed, not every order (28 s of CPU on 5 M orders, bench/lifecycle.ts).
  // The items are stored as ClickHouse re-serialised them (JSONExtractRaw: escapes decoded, numbers normalised, as
  // `field` reads them); not when a character of `after` might be escaped there: then every order is read.
  const literal = !/["\\/\u0000-\u001f\u007f\u2028\u2029]/.test(o.after)
  // A string key is written between quotes (SKU-7 must not pick the buyers of SKU-70); a number bare (so for anything
  // that might be a number, the bare text: it is in the quoted form too).
  const needle = /^[-0-9]/.test(o.after) ? o.after : `"${o.after}"`
  const params = { now: chDateTime(o.to), kind: o.kind, after: o.after, limit: o.limit, needle }
  const candidates = literal ? `AND recipient_id IN (SELECT recipient_id FROM ${db}.purchases WHERE kind = {kind:String} AND position(items, {needle:String}) > 0)` : ''
  // Per buyer of `after`: its orders in time order, the first naming it, and the next one.
  const buyers = `WITH orders AS (
       SELECT order_id, ts, recipient_id, items FROM ${db}.purchases FINAL
       WHERE kind = {kind:String} AND ts <= toDateTime64({now:String}, 3, 'UTC') ${candidates}
     )
     SELECT recipient_id, os[i].1 AS at, if(i < length(os), os[i + 1], (toInt64(0), '', [], [])) AS nx
     FROM (
       SELECT recipient_id, os, arrayFirstIndex(x -> has(x.3, {after:String}), os) AS i
       FROM (
         SELECT recipient_id,
                arraySort(x -> (x.1, x.2), groupArray((toUnixTimestamp64Milli(ts), order_id, keys, names))) AS os
         FROM (
           SELECT recipient_id, ts, order_id,
                  arrayMap(item -> ${keySql(o.by, 'item')}, JSONExtractArrayRaw(items)) AS all_keys,
                  arrayFilter((n, k) -> k != '', arrayMap(item -> ${field('item', 'name')}, JSONExtractArrayRaw(items)), all_keys) AS names,
                  arrayFilter(k -> k != '', all_keys) AS keys
           FROM orders
         )
         GROUP BY recipient_id
       )
       WHERE i > 0
     )`
  const [totals] = await queryRows<{ buyers: number; returned: number }>(
    store,
    `SELECT count() AS buyers, countIf(nx.1 > 0) AS returned FROM (${buyers})`,
    params,
  )
  const rows = await queryRows<{ key: string; name: string; buyers: number; q: [number, number, number] }>(
    store,
    `SELECT key, topK(1)(name)[1] AS name, count() AS buyers,
            quantilesExactInclusive(0.25, 0.5, 0.75)((nx.1 - at) / {day:Float64}) AS q
     FROM (
       SELECT recipient_id, at, nx, k.1 AS key, k.2 AS name
       FROM (${buyers})
       ARRAY JOIN arrayDistinct(arrayZip(nx.3, nx.4)) AS k
       WHERE nx.1 > 0
       LIMIT 1 BY recipient_id, key
     )
     GROUP BY key
     ORDER BY buyers DESC, key
     LIMIT {limit:UInt32}`,
    { ...params, day: DAY_MS },
  )
  const n = Number(totals?.buyers ?? 0)
  const r3 = (x: number) => Math.round(x * 1000) / 1000
  return {
    after: o.after,
    by: o.by,
    buyers: n,
    returned: Number(totals?.returned ?? 0),
    next: rows.map((r) => {
      const w = wilson(Number(r.buyers), n)
      return {
        key: r.key,
        name: o.by === 'product' ? r.name : null,
        buyers: Number(r.buyers),
        share: w.value,
        low: w.low,
        high: w.high,
        days: { p25: r3(Number(r.q[0])), median: r3(Number(r.q[1])), p75: r3(Number(r.q[2])) },
      }
    }),
    method: PURCHASES_METHOD.next,
  }
}
