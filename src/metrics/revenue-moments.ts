import { queryRows, type EventStore } from '../store/clickhouse.js'
import { attributedConversionsManySql, attributedConversionsSql, type AttributionOptions, type Dimension } from './attribution.js'

export interface RevenueMoments {
  key: string
  /** Recipients sent (each one a trial, zero revenue when no attributed order). */
  n: number
  /** Sum and sum of squares of per-recipient revenue, as floats: for the test statistic only, never reported as money. */
  sum: number
  sumSquares: number
}

/** Per variant or segment (or the whole campaign, key '', when `by` is null), the moments of revenue per recipient in one currency (for a Welch test). */
export async function revenueMoments(store: EventStore, campaignId: string, by: Dimension | null, currency: string, opts: AttributionOptions = {}): Promise<RevenueMoments[]> {
  const key = by === null ? `''` : by === 'variant' ? 's.variant' : `arrayJoin(if(empty(s.segments), [''], s.segments))`
  return momentsOver(store, attributedConversionsSql(store.db, opts), { campaign: campaignId, currency }, {
    key,
    sends: `SELECT recipient_id, variant, segments FROM ${store.db}.sends FINAL WHERE campaign_id = {campaign:String}`,
    perRecipient: 'recipient_id',
    on: 'r.recipient_id = s.recipient_id',
  })
}

/** revenueMoments of several campaigns with `by` null, one query: key the campaign id. */
export async function revenueMomentsByCampaign(store: EventStore, campaignIds: string[], currency: string, opts: AttributionOptions = {}): Promise<RevenueMoments[]> {
  return momentsOver(store, attributedConversionsManySql(store.db, opts), { campaigns: campaignIds, currency }, {
    key: 's.campaign_id',
    sends: `SELECT campaign_id, recipient_id FROM ${store.db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}`,
    perRecipient: 'for_campaign, recipient_id',
    on: 'r.for_campaign = s.campaign_id AND r.recipient_id = s.recipient_id',
  })
}

async function momentsOver(
  store: EventStore,
  a: { sql: string; params: Record<string, unknown> },
  bind: Record<string, unknown>,
  q: { key: string; sends: string; perRecipient: string; on: string },
): Promise<RevenueMoments[]> {
  const rows = await queryRows<{ key: string; n: number; total: number; sq: number }>(
    store,
    `WITH ${a.sql}
     SELECT ${q.key} AS key, count() AS n, sum(r.v) AS total, sum(r.v * r.v) AS sq
     FROM (${q.sends}) AS s
     LEFT JOIN (SELECT ${q.perRecipient}, toFloat64(sum(amount)) AS v FROM attributed WHERE currency = {currency:String} AND recipient_id != '' GROUP BY ${q.perRecipient}) AS r
       ON ${q.on}
     GROUP BY key ORDER BY key`,
    { ...bind, ...a.params },
  )
  return rows.map((r) => ({ key: String(r.key), n: Number(r.n), sum: Number(r.total), sumSquares: Number(r.sq) }))
}
