import { queryRows, type EventStore } from '../store/clickhouse.js'
import { wilson, type Interval } from './statistics.js'
import { num, recipientFacts, type EventWindow } from './sql.js'

/** segment, variant, or attribute:NAME (one attribute of the sends). */
export type Dimension = { kind: 'segment' } | { kind: 'variant' } | { kind: 'attribute'; name: string }

export function parseDimension(by: string): Dimension | null {
  if (by === 'segment' || by === 'variant') return { kind: by }
  const m = /^attribute:([A-Za-z0-9_.\-]{1,128})$/.exec(by)
  return m ? { kind: 'attribute', name: m[1]! } : null
}

/** Fixed SQL per dimension kind; the attribute name is a bound parameter. */
function keyExpression(d: Dimension): string {
  if (d.kind === 'segment') return 'arrayJoin(segments)'
  if (d.kind === 'variant') return 'variant'
  return 'attributes[{attr:String}]'
}

export interface GroupCounts {
  key: string
  sent: number
  uniqueOpeners: number
  uniqueClickers: number
  /** Recipients who opened or clicked: the denominator of click-to-open. */
  engaged: number
}

/**
 * Sent, openers and clickers per group, counted from the sends (recipients who did nothing
 * count in `sent`). `linkId` narrows clicks to one link. `campaigns` of more than one groups
 * by campaign when `d` is null.
 */
export async function groupCounts(
  store: EventStore,
  campaigns: string[],
  d: Dimension | null,
  w: EventWindow,
  opts: { linkId?: string | undefined } = {},
): Promise<GroupCounts[]> {
  const db = store.db
  const facts = recipientFacts(db, w, 'campaign_id IN {campaigns:Array(String)}', { clickLink: opts.linkId !== undefined })
  const key = d ? keyExpression(d) : 'campaign_id'
  const rows = await queryRows<{ key: string; sent: number; openers: number; clickers: number; engaged: number }>(
    store,
    `SELECT key, count() AS sent,
            countIf(f.opens > 0) AS openers,
            countIf(f.clicks > 0) AS clickers,
            countIf(f.opens > 0 OR f.clicks > 0) AS engaged
     FROM (SELECT campaign_id, recipient_id, ${key} AS key FROM ${db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}) AS s
     LEFT JOIN (${facts.sql}) AS f USING (campaign_id, recipient_id)
     GROUP BY key
     ORDER BY key`,
    { campaigns, ...facts.params, ...(d?.kind === 'attribute' ? { attr: d.name } : {}), ...(opts.linkId !== undefined ? { linkId: opts.linkId } : {}) },
  )
  return rows.map((r) => ({ key: r.key, sent: num(r.sent), uniqueOpeners: num(r.openers), uniqueClickers: num(r.clickers), engaged: num(r.engaged) }))
}

export interface SegmentRow extends GroupCounts {
  openRate: Interval
  clickRate: Interval
  clickToOpenRate: Interval
}

/** Per segment, variant or attribute value: counts and rates with 95% Wilson intervals. */
export async function segmentStats(store: EventStore, campaignId: string, d: Dimension, w: EventWindow, linkId?: string): Promise<SegmentRow[]> {
  const rows = await groupCounts(store, [campaignId], d, w, { linkId })
  return rows.map((r) => ({
    ...r,
    openRate: wilson(r.uniqueOpeners, r.sent),
    clickRate: wilson(r.uniqueClickers, r.sent),
    clickToOpenRate: wilson(r.uniqueClickers, r.engaged),
  }))
}
