import type { Link } from '../services/campaigns.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'

export interface LinkStats {
  linkId: string
  url: string
  label: string
  position: number
  clicks: number
  uniqueClickers: number
}

/** Clicks per link of the campaign, every registered link listed (zero when never clicked). */
export async function linkStats(store: EventStore, campaignId: string, links: Link[]): Promise<LinkStats[]> {
  const rows = await queryRows<{ link_id: string; clicks: number; unique_clickers: number }>(
    store,
    `SELECT link_id, count() AS clicks, uniqExactIf(recipient_id, recipient_id != '') AS unique_clickers
     FROM ${store.db}.events
     WHERE campaign_id = {campaign:String} AND type = 'click'
     GROUP BY link_id`,
    { campaign: campaignId },
  )
  const byId = new Map(rows.map((r) => [r.link_id, r]))
  return links.map((l) => ({
    linkId: l.id,
    url: l.url,
    label: l.label,
    position: l.position,
    clicks: Number(byId.get(l.id)?.clicks ?? 0),
    uniqueClickers: Number(byId.get(l.id)?.unique_clickers ?? 0),
  }))
}
