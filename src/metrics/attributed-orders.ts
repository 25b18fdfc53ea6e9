import { addDecimal, fixed } from '../conversions/money.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'
import { attributedConversionsSql, type AttributionOptions, type GroupRow, type Revenue } from './attribution.js'

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

export class Tally {
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

export function tallyIn(m: Map<string, Tally>, key: string): Tally {
  let t = m.get(key)
  if (!t) m.set(key, (t = new Tally()))
  return t
}
