import type { EventStore } from '../store/clickhouse.js'
import { groupCountsEach, type Dimension, type GroupCounts } from './facts.js'
import type { EventWindow } from './sql.js'
import { wilson, type Interval } from './statistics.js'

export interface SegmentRow extends GroupCounts {
  openRate: Interval
  clickRate: Interval
  clickToOpenRate: Interval
}

/** Per segment, variant or attribute value: counts and rates with 95% Wilson intervals. */
export async function segmentStats(store: EventStore, campaignId: string, d: Dimension, w: EventWindow, linkId?: string): Promise<SegmentRow[]> {
  return (await segmentStatsEach(store, campaignId, [d], w, linkId))[0]!
}

/** `segmentStats` for several dimensions from one pass over the sends (see groupCountsEach). */
export async function segmentStatsEach(store: EventStore, campaignId: string, dims: Dimension[], w: EventWindow, linkId?: string): Promise<SegmentRow[][]> {
  return (await groupCountsEach(store, [campaignId], dims, w, { linkId })).map(withIntervals)
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
