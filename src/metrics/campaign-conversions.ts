import { queryRows, type EventStore } from '../store/clickhouse.js'
import { DAY_MS, DEFAULT_WINDOW_MS, moneyFigures, type AttributionModel, type AttributionOptions, type GroupRow, type Revenue } from './attribution.js'
import { attributedOrders, Tally, tallyIn } from './attributed-orders.js'
import { clicksWhere } from './conversion-groups.js'
import { wilson, type Interval } from './statistics.js'

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
  return {
    key,
    sent: d.sent,
    clickers: d.clickers,
    conversions,
    converters,
    conversionRate: { ...wilson(Math.min(converters, d.sent), d.sent), numerator: 'converters', denominator: 'sent' },
    clickerConversionRate: { ...wilson(Math.min(converters, d.clickers), d.clickers), numerator: 'converters', denominator: 'clickers' },
    ...moneyFigures(g, d.sent),
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
