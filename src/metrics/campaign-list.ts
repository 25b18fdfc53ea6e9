import { queryRows, type EventStore } from '../store/clickhouse.js'
import { isoFromCh, num, trafficCondition, type Traffic } from './sql.js'

export interface CampaignListFacts {
  /** The first send (sends.sent_at), null before any. */
  firstSentAt: string | null
  /** Recipients who unsubscribed (valid tokens, the traffic chosen). */
  unsubscribers: number
}

/** For a page of campaigns: when each was first sent and how many unsubscribed, two short grouped queries. */
export async function campaignListFacts(store: EventStore, campaignIds: string[], traffic: Traffic): Promise<Map<string, CampaignListFacts>> {
  const out = new Map<string, CampaignListFacts>(campaignIds.map((id) => [id, { firstSentAt: null, unsubscribers: 0 }]))
  if (campaignIds.length === 0) return out
  const sent = await queryRows<{ campaign_id: string; first: string }>(
    store,
    `SELECT campaign_id, min(sent_at) AS first FROM ${store.db}.sends WHERE campaign_id IN {ids:Array(String)} GROUP BY campaign_id`,
    { ids: campaignIds },
  )
  for (const r of sent) out.get(r.campaign_id)!.firstSentAt = isoFromCh(r.first)
  const unsub = await queryRows<{ campaign_id: string; n: string | number }>(
    store,
    `SELECT campaign_id, uniqExact(recipient_id) AS n FROM ${store.db}.events
     WHERE campaign_id IN {ids:Array(String)} AND type = 'unsubscribe' AND token_valid AND ${trafficCondition(traffic)}
     GROUP BY campaign_id`,
    { ids: campaignIds },
  )
  for (const r of unsub) out.get(r.campaign_id)!.unsubscribers = num(r.n)
  return out
}
