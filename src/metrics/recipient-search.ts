import { queryRows, type EventStore } from '../store/clickhouse.js'
import { isoFromCh, num, trafficCondition, type Traffic } from './sql.js'

export interface RecentRecipient {
  recipientId: string
  lastAt: string
  campaignId: string
  events: number
}

export interface FoundRecipient {
  recipientId: string
  lastSentAt: string | null
  campaigns: number
}

/** Recipients with the latest events of the last `days` (valid tokens only), newest first: a way into timelines without knowing an id. */
export async function recentRecipients(store: EventStore, traffic: Traffic, opts: { days?: number; limit?: number } = {}): Promise<RecentRecipient[]> {
  const rows = await queryRows<{ recipient_id: string; last: string; campaign_id: string; n: string | number }>(
    store,
    `SELECT recipient_id, max(ts) AS last, argMax(campaign_id, ts) AS campaign_id, count() AS n
     FROM ${store.db}.events
     WHERE token_valid AND recipient_id != '' AND type IN ('open', 'click', 'unsubscribe') AND ${trafficCondition(traffic)}
       AND ts >= now64(3, 'UTC') - toIntervalDay({days:UInt32})
     GROUP BY recipient_id ORDER BY last DESC, recipient_id LIMIT {limit:UInt32}`,
    { days: opts.days ?? 7, limit: opts.limit ?? 50 },
  )
  return rows.map((r) => ({ recipientId: r.recipient_id, lastAt: isoFromCh(r.last) ?? '', campaignId: r.campaign_id, events: num(r.n) }))
}

/** Recipients sent to whose id starts with `prefix`, in id order: finds "dupond" from "dup". */
export async function searchRecipients(store: EventStore, prefix: string, limit = 20): Promise<FoundRecipient[]> {
  const rows = await queryRows<{ recipient_id: string; last: string; n: string | number }>(
    store,
    `SELECT recipient_id, max(sent_at) AS last, uniqExact(campaign_id) AS n
     FROM ${store.db}.sends WHERE startsWith(recipient_id, {prefix:String})
     GROUP BY recipient_id ORDER BY recipient_id LIMIT {limit:UInt32}`,
    { prefix, limit },
  )
  return rows.map((r) => ({ recipientId: r.recipient_id, lastSentAt: isoFromCh(r.last), campaigns: num(r.n) }))
}
