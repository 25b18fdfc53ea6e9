import { chDateTime, queryRows, type EventStore } from './clickhouse.js'
import { renderStatement } from './clickhouse-ddl.js'
import type { RetentionDays } from '../config.js'
import { RECENT_SENDS_DAYS } from './recent-sends.js'


const DAY_MS = 86_400_000

/**
 * The TTL clauses the configuration asks for. Days are integers validated by the config (1 to
 * 10 000), written into the DDL because ALTER … MODIFY TTL takes no query parameters.
 *
 * Events: when every row has the same retention, whole parts are dropped once all their rows are
 * past it (ttl_only_drop_parts: no rewrite of the table; parts are monthly, so a row may outlive
 * its day by up to a month). When conversions are kept for another time than opens and clicks, a
 * part holds rows of both, so rows are deleted one by one by TTL merges instead.
 */
export function retentionClauses(r: RetentionDays): {
  events: string
  eventsDropParts: boolean
  sends: string
  recipientSends: string
  recipientRecentSends: string
  recipientSendOutcomes: string
  recipientEngagement: string
  recipientEngagementDays: string
  purchases: string
  customerOrders: string
} {
  const at = (days: number) => `toDateTime(ts) + toIntervalDay(${Math.trunc(days)})`
  let events = ''
  const e = r.eventDays
  const c = r.conversionDays
  if (e !== null && c !== null) events = e === c ? at(e) : `toDateTime(ts) + toIntervalDay(if(type = 'conversion', ${Math.trunc(c)}, ${Math.trunc(e)}))`
  else if (e !== null) events = `${at(e)} DELETE WHERE type != 'conversion'`
  else if (c !== null) events = `${at(c)} DELETE WHERE type = 'conversion'`
  const sends = r.sendDays === null ? '' : `toDateTime(sent_at) + toIntervalDay(${Math.trunc(r.sendDays)})`
  // The per-recipient summary of sends (migration 2300): a row (the sends merged into it so far) goes once its latest
  // send is past the retention, so every send it holds is; a send past it in a row with a later one stays until that one goes.
  const recipientSends = r.sendDays === null ? '' : `toDateTime(intDiv(arrayMax(sends.2), 1000)) + toIntervalDay(${Math.trunc(r.sendDays)})`
  // The cap check's recent sends (migration 3400): always a TTL, its horizon (RECENT_SENDS_DAYS), shorter when sends are kept
  // fewer days; the row goes with its latest send as in recipient_sends, so both hold the same sends inside the horizon.
  const recentDays = Math.min(RECENT_SENDS_DAYS, r.sendDays ?? RECENT_SENDS_DAYS)
  const recipientRecentSends = `toDateTime(intDiv(arrayMax(sends.2), 1000)) + toIntervalDay(${Math.trunc(recentDays)})`
  // The sends with their outcome bits (migration 3600) hold the same sends as recipient_sends: the same rule, on their latest
  // (sent is ascending, never empty).
  const recipientSendOutcomes = r.sendDays === null ? '' : `toDateTime(intDiv(arrayMax(sent), 1000)) + toIntervalDay(${Math.trunc(r.sendDays)})`
  // The per-recipient summary of human engagement (migration 2500) holds opens, clicks and unsubscribes (never conversions):
  // a row goes once its latest engagement is past the events' retention, as recipient_sends does with sends.
  const recipientEngagement =
    e === null ? '' : `toDateTime(intDiv(greatest(last_engaged, arrayMax(arrayPushBack(unsubscribes.2, 0))), 1000)) + toIntervalDay(${Math.trunc(e)})`
  // Its per-day summary (migration 3500): the same deadline, from the same two latest times.
  const recipientEngagementDays = e === null ? '' : `toDateTime(intDiv(greatest(last_engaged, last_unsubscribe), 1000)) + toIntervalDay(${Math.trunc(e)})`
  // The purchases (migration 1210) are conversions: kept as long, row by row.
  const purchases = c === null ? '' : at(c)
  // The per-customer summary (migration 1700) has no time column: its row (a customer's orders merged so far) goes
  // once the latest order in it is past the retention; the order time is read back from ver as its comment says.
  const customerOrders =
    c === null ? '' : `toDateTime(intDiv(arrayMax(arrayMap(v -> if(v >= 10000000000000, 20000000000000, 10000000000000) - v, vers)), 1000)) + toIntervalDay(${Math.trunc(c)})`
  return { events, eventsDropParts: e !== null && e === c, sends, recipientSends, recipientRecentSends, recipientSendOutcomes, recipientEngagement, recipientEngagementDays, purchases, customerOrders }
}

/**
 * Applies the retention TTLs to `events`, `sends` (and the per-recipient summaries `recipient_sends`, `recipient_send_outcomes`, `recipient_engagement` and `recipient_engagement_days`), and for conversions `purchases` and `customer_orders`, at start. Idempotent: the clause last
 * applied is kept in `applied_settings`, and a table is altered only when its clause changed (a
 * MODIFY TTL recomputes the TTL of every existing part in the background: worth doing once, not
 * at every start). Returns what was altered.
 */
export async function applyRetention(store: EventStore, r: RetentionDays): Promise<string[]> {
  const { db, client } = store
  // ON CLUSTER on a cluster (every replica's table gets the TTL), unchanged on one node.
  const alter = (statement: string) => client.command({ query: renderStatement(statement, store.ddl ?? {}) })
  const want = retentionClauses(r)
  const rows = await queryRows<{ name: string; value: string; at: number }>(
    store,
    `SELECT name, argMax(value, applied_at) AS value, toUnixTimestamp64Milli(max(applied_at)) AS at FROM ${db}.applied_settings GROUP BY name`,
  )
  const current = new Map(rows.map((x) => [x.name, x.value]))
  // The latest row of a name wins: each new one is stamped after every earlier one, even within a millisecond.
  let stamp = Math.max(Date.now(), ...rows.map((x) => Number(x.at) + 1))
  const changed: string[] = []
  const targets = [
    { name: 'events_ttl', table: 'events', clause: want.events, value: `${want.events}|drop_parts=${want.eventsDropParts ? 1 : 0}` },
    { name: 'sends_ttl', table: 'sends', clause: want.sends, value: want.sends },
    { name: 'recipient_sends_ttl', table: 'recipient_sends', clause: want.recipientSends, value: want.recipientSends },
    // Created with its horizon's TTL (migration 3400): nothing to alter while that is the clause wanted.
    { name: 'recipient_recent_sends_ttl', table: 'recipient_recent_sends', clause: want.recipientRecentSends, value: want.recipientRecentSends, initial: retentionClauses({ eventDays: null, sendDays: null, conversionDays: null }).recipientRecentSends },
    { name: 'recipient_send_outcomes_ttl', table: 'recipient_send_outcomes', clause: want.recipientSendOutcomes, value: want.recipientSendOutcomes },
    { name: 'recipient_engagement_ttl', table: 'recipient_engagement', clause: want.recipientEngagement, value: want.recipientEngagement },
    { name: 'recipient_engagement_days_ttl', table: 'recipient_engagement_days', clause: want.recipientEngagementDays, value: want.recipientEngagementDays },
    { name: 'purchases_ttl', table: 'purchases', clause: want.purchases, value: want.purchases },
    { name: 'customer_orders_ttl', table: 'customer_orders', clause: want.customerOrders, value: want.customerOrders },
  ]
  for (const t of targets) {
    const before = current.get(t.name) ?? ('initial' in t ? t.initial : '')
    if (before === (t.clause ? t.value : '')) continue
    if (t.clause) {
      if (t.table === 'events') await alter(`ALTER TABLE ${db}.events MODIFY SETTING ttl_only_drop_parts = ${want.eventsDropParts ? 1 : 0}`)
      await alter(`ALTER TABLE ${db}.${t.table} MODIFY TTL ${t.clause}`)
    } else {
      await alter(`ALTER TABLE ${db}.${t.table} REMOVE TTL`)
    }
    await client.insert({
      table: `${db}.applied_settings`,
      values: [{ name: t.name, value: t.clause ? t.value : '', applied_at: chDateTime(stamp++) }],
      format: 'JSONEachRow',
      // A fresh token: chDB keeps an earlier insert's token on the connection (see ARCHITECTURE.md).
      clickhouse_settings: { insert_deduplication_token: `applied:${t.name}:${Date.now()}:${Math.random()}` },
    })
    changed.push(t.name)
  }
  return changed
}

/**
 * What a metric over a range can count under retention: `cutoff` is the instant from which every
 * kind of row (events, sends, conversions) is still kept; `partial` says the range asked for
 * begins before it (or has no beginning), so part of it may already be deleted. Null without retention.
 */
export function retentionNotice(r: RetentionDays, now: number, from: number | undefined): { cutoff: string; partial: boolean; days: RetentionDays } | null {
  const days = [r.eventDays, r.sendDays, r.conversionDays].filter((d): d is number => d !== null)
  if (days.length === 0) return null
  const cutoff = now - Math.min(...days) * DAY_MS
  return { cutoff: new Date(cutoff).toISOString(), partial: from === undefined || from < cutoff, days: r }
}
