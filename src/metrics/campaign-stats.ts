import { queryRows, type EventStore } from '../store/clickhouse.js'

export interface CampaignStats {
  campaignId: string
  sent: number
  opens: { total: number; unique: number }
  clicks: { total: number; unique: number }
}

/** Counts of one campaign; uniques are exact and leave out unattributed (invalid-token) events. */
export async function campaignStats(store: EventStore, campaignId: string): Promise<CampaignStats> {
  const db = store.db
  const [row] = await queryRows<{ sent: number; opens_total: number; opens_unique: number; clicks_total: number; clicks_unique: number }>(
    store,
    `SELECT
       (SELECT count() FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}) AS sent,
       countIf(type = 'open') AS opens_total,
       uniqExactIf(recipient_id, type = 'open' AND recipient_id != '') AS opens_unique,
       countIf(type = 'click') AS clicks_total,
       uniqExactIf(recipient_id, type = 'click' AND recipient_id != '') AS clicks_unique
     FROM ${db}.events
     WHERE campaign_id = {campaign:String}`,
    { campaign: campaignId },
  )
  return {
    campaignId,
    sent: Number(row?.sent ?? 0),
    opens: { total: Number(row?.opens_total ?? 0), unique: Number(row?.opens_unique ?? 0) },
    clicks: { total: Number(row?.clicks_total ?? 0), unique: Number(row?.clicks_unique ?? 0) },
  }
}
