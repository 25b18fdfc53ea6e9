import { randomUUID } from 'node:crypto'
import { queryRows, type EventStore } from '../store/clickhouse.js'

/**
 * The human engagement of one recipient as recipient_engagement holds it (migration 2500): the same
 * SELECT as its materialized view, over every event of the recipients given.
 */
const ENGAGEMENT_ROW = `
  SELECT recipient_id,
         maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS opens,
         maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS clicks,
         maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'unsubscribe') AS unsubscribes,
         minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS first_opens,
         minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS first_clicks,
         toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged`

/** The same recipient's row of recipient_engagement_days (migration 3500): the SELECT of its view. */
const DAYS_ROW = `
  SELECT recipient_id,
         maxMapIf([toUInt16(intDiv(toUnixTimestamp64Milli(ts), 86400000))], [toUInt32(toUnixTimestamp64Milli(ts) % 86400000)], [toInt32(-(toUnixTimestamp64Milli(ts) % 86400000))], type IN ('open', 'click')) AS days,
         toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged,
         toInt64(maxIf(toUnixTimestamp64Milli(ts), type = 'unsubscribe')) AS last_unsubscribe`

/** Recipients per statement: their ids travel as a query parameter. */
const CHUNK = 2_000

/**
 * The campaigns and recipients of these stored events (ids, within the ts bounds) that are opens,
 * clicks or unsubscribes: the recipient_engagement rows (migration 2500) and sequence step sends'
 * facts (migration 3300) a change of those events' class alters are theirs.
 */
export async function engagementOfEvents(store: EventStore, eventIds: readonly string[], tsRange: { from: number; to: number }): Promise<{ campaigns: string[]; recipients: string[] }> {
  const campaigns = new Set<string>()
  const recipients = new Set<string>()
  for (let i = 0; i < eventIds.length; i += 5_000) {
    const rows = await queryRows<{ c: string; r: string }>(
      store,
      `SELECT DISTINCT campaign_id AS c, recipient_id AS r FROM ${store.db}.events
       WHERE ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
         AND event_id IN {ids:Array(String)} AND recipient_id != '' AND type IN ('open', 'click', 'unsubscribe')`,
      { fromMs: tsRange.from, toMs: tsRange.to, ids: eventIds.slice(i, i + 5_000) },
    )
    for (const x of rows) {
      campaigns.add(x.c)
      recipients.add(x.r)
    }
  }
  return { campaigns: [...campaigns], recipients: [...recipients] }
}

/**
 * Recomputes these recipients' recipient_engagement rows (migration 2500) and recipient_engagement_days
 * rows (migration 3500) from events, after their events' class was rewritten in place (no view sees an
 * ALTER … UPDATE). Their rows are deleted (a lightweight DELETE: a mask, not a rewrite of the table's
 * parts), then rebuilt from every event of theirs (the events' projection by recipient finds them). A
 * reader in between sees these recipients without any human engagement (for the time of one INSERT …
 * SELECT of their events, milliseconds): never engagement the reclassification removed. An event of
 * theirs inserted meanwhile is kept either way: if its view row came before the DELETE, the rebuild
 * reads it from events; if after, its row stays (the maxima and minima do not mind it counted twice).
 */
export async function refreshRecipientEngagement(store: EventStore, recipientIds: readonly string[]): Promise<void> {
  const ids = [...new Set(recipientIds)].filter((r) => r !== '')
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK)
    for (const [table, row] of [
      ['recipient_engagement', ENGAGEMENT_ROW],
      ['recipient_engagement_days', DAYS_ROW],
    ] as const) {
      await store.client.command({
        query: `DELETE FROM ${store.db}.${table} WHERE recipient_id IN {ids:Array(String)}`,
        query_params: { ids: part },
        // chDB keeps settings on the connection: pass the value this statement needs (wait for the mask).
        clickhouse_settings: { lightweight_deletes_sync: '2' },
      })
      await store.client.command({
        query: `INSERT INTO ${store.db}.${table}
                ${row}
                FROM ${store.db}.events
                WHERE recipient_id IN {ids:Array(String)} AND type IN ('open', 'click', 'unsubscribe') AND class = 'human'
                GROUP BY recipient_id`,
        query_params: { ids: part },
        // A fresh token: a replicated table would drop a block identical to an earlier one (the same
        // recipient rebuilt to the same row twice), and chDB keeps an earlier insert's token.
        clickhouse_settings: { insert_deduplication_token: `engagement:${randomUUID()}` },
      })
    }
  }
}
