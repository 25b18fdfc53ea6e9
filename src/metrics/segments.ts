import type { EventStore } from '../store/clickhouse.js'
import { groupCounts, type Dimension, type GroupCounts } from './facts.js'
import type { EventWindow } from './sql.js'
import { wilson, type Interval } from './statistics.js'

export interface SegmentRow extends GroupCounts {
  openRate: Interval
  clickRate: Interval
  clickToOpenRate: Interval
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
