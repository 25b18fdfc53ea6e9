import type { EventStore } from '../store/clickhouse.js'
import { groupOrders, type AttributedOrder } from './attributed-orders.js'
import { conversionBlock, type ConversionBlock } from './conversion-summary.js'
import { groupCounts, type Dimension, type GroupCounts } from './facts.js'
import type { EventWindow } from './sql.js'
import { wilson, type Interval } from './statistics.js'

export interface SegmentRow extends GroupCounts {
  openRate: Interval
  clickRate: Interval
  clickToOpenRate: Interval
}

/** A row with its attributed conversions: converters / sent with its 95% Wilson interval, and the conversions block. */
export interface SegmentConversionRow extends SegmentRow {
  conversionRate: Interval
  conversions: ConversionBlock
}

/** Per segment, variant or attribute value: counts and rates with 95% Wilson intervals. */
export async function segmentStats(store: EventStore, campaignId: string, d: Dimension, w: EventWindow, linkId?: string): Promise<SegmentRow[]> {
  return withIntervals(await groupCounts(store, [campaignId], d, w, { linkId }))
}

/** Counts → rates with their 95% Wilson intervals. */
export function withIntervals(rows: GroupCounts[]): SegmentRow[] {
  return rows.map((r) => ({
    ...r,
    openRate: wilson(r.uniqueOpeners, r.sent),
    clickRate: wilson(r.uniqueClickers, r.sent),
    clickToOpenRate: wilson(r.uniqueClickers, r.engaged),
  }))
}

/**
 * Rows of one dimension gain the campaign's attributed orders (attributedOrders, fetched once for
 * any number of dimensions): an order counts under its converter's send's key (each segment of a
 * recipient in two), not at all without a send, and only on `linkId` when given. What the segments
 * endpoint answers and the dashboard's variant and segment tables show.
 */
export function withConversions(rows: SegmentRow[], orders: AttributedOrder[], d: Dimension, linkId?: string): SegmentConversionRow[] {
  const conv = groupOrders(orders, (o) => {
    if (!o.hasSend || (linkId !== undefined && o.linkId !== linkId)) return []
    return d.kind === 'segment' ? o.segments : d.kind === 'variant' ? [o.variant] : [o.attribute]
  })
  return rows.map((r) => {
    const conversions = conversionBlock(conv.get(r.key), r.sent, r.uniqueClickers)
    return { ...r, conversionRate: wilson(Math.min(conversions.converters, r.sent), r.sent), conversions }
  })
}
