import { randomUUID } from 'node:crypto'
import { queryRows, type EventStore } from './clickhouse.js'
import { advanceEventCursor } from './event-cursor.js'

/**
 * sequence_send_facts (migration 3300): per step send, the opens, clicks and unsubscribes of its
 * campaign by its recipient, by traffic (human, machine). Rows are recomputed whole, never patched,
 * so any computation that started after the events and sends it depends on were stored (or
 * reclassified) gives the right row, and the latest one wins.
 */

/** Recipients per statement: their ids travel as a query parameter (a sends call's 10,000 in one). */
const CHUNK = 10_000

/** The engagement a send's row holds, per (campaign, recipient), from the events (the same as the migration's backfill). */
const FACTS = `SELECT campaign_id, recipient_id,
         max(type = 'open' AND class = 'human') AS human_open,
         max(type = 'open' AND class != 'human') AS machine_open,
         minIf(toUnixTimestamp64Milli(ts), type = 'click' AND class = 'human') AS human_click,
         minIf(toUnixTimestamp64Milli(ts), type = 'click' AND class != 'human') AS machine_click,
         max(type = 'unsubscribe' AND class = 'human') AS human_unsubscribe,
         max(type = 'unsubscribe' AND class != 'human') AS machine_unsubscribe`

export interface FactsScope {
  /** The sends of these campaigns (always narrowed by campaign: the events' primary key starts with it). */
  campaigns: readonly string[]
  /** …to these recipients (every recipient when absent). */
  recipients?: readonly string[]
  /** …in this sequence only. */
  sequenceId?: string
  /** …of this step only (with sequenceId: the sends' primary key narrows the read to it). */
  stepId?: string
}

/**
 * Recomputes the rows of the step sends in scope from sequence_sends and events. Its version is the
 * time the statement started (µs), taken with the snapshot it reads: a later computation read later
 * data and wins. Sends and events outside the scope are left alone.
 */
export async function recomputeSendFacts(store: EventStore, scope: FactsScope): Promise<void> {
  const campaigns = [...new Set(scope.campaigns)]
  if (campaigns.length === 0) return
  const all = scope.recipients === undefined
  const ids = all ? [] : [...new Set(scope.recipients)].filter((r) => r !== '')
  for (let i = 0; all ? i === 0 : i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK)
    const byRecipient = all ? '' : ' AND recipient_id IN {r:Array(String)}'
    const bySequence = `${scope.sequenceId === undefined ? '' : ' AND sequence_id = {s:String}'}${scope.stepId === undefined ? '' : ' AND step_id = {st:String}'}`
    await store.client.command({
      query: `INSERT INTO ${store.db}.sequence_send_facts
              SELECT s.sequence_id, s.step_id, s.recipient_id, s.entered_at, s.campaign_id, s.sent_at,
                     f.human_open, f.machine_open, f.human_click, f.machine_click, f.human_unsubscribe, f.machine_unsubscribe,
                     toUInt64(toUnixTimestamp64Micro(now64(6)))
              FROM (SELECT sequence_id, step_id, recipient_id, entered_at, campaign_id, sent_at FROM ${store.db}.sequence_sends FINAL
                    WHERE campaign_id IN {c:Array(String)}${byRecipient}${bySequence}) AS s
              LEFT ANY JOIN (
                ${FACTS}
                FROM ${store.db}.events
                WHERE campaign_id IN {c:Array(String)}${byRecipient} AND type IN ('open', 'click', 'unsubscribe') AND recipient_id != ''
                GROUP BY campaign_id, recipient_id
              ) AS f ON f.campaign_id = s.campaign_id AND f.recipient_id = s.recipient_id`,
      query_params: { c: campaigns, ...(all ? {} : { r: part }), ...(scope.sequenceId === undefined ? {} : { s: scope.sequenceId }), ...(scope.stepId === undefined ? {} : { st: scope.stepId }) },
      // A fresh token: a replicated table would drop a block identical to an earlier one (a row
      // recomputed to the same values), and chDB keeps an earlier insert's token.
      clickhouse_settings: { insert_deduplication_token: `send-facts:${randomUUID()}` },
    })
  }
}

/**
 * Applies the opens, clicks and unsubscribes stored since the cursor, up to `committed` (the
 * writers' sequence: nothing at or below it is still to be inserted), to the sends of these
 * campaigns (every sequence's step campaigns), then moves the cursor. Run before each funnel read,
 * so the funnel sees every event stored before it; without new events it reads one row. Two
 * callers at once compute the same rows. Events of other campaigns are passed over: their sends'
 * rows are recomputed when a step takes such a campaign again (src/services/sequences.ts).
 */
export async function applyStoredEngagement(store: EventStore, committed: number, campaigns: readonly string[]): Promise<{ recipients: number }> {
  const recipients = await advanceEventCursor(store, 'sequence_send_facts_cursor', committed, async (from, to) => {
    if (campaigns.length === 0) return 0
    const rows = await queryRows<{ c: string; r: string }>(
      store,
      `SELECT DISTINCT campaign_id AS c, recipient_id AS r FROM ${store.db}.events
       WHERE seq > {from:UInt64} AND seq <= {to:UInt64} AND campaign_id IN {c:Array(String)} AND type IN ('open', 'click', 'unsubscribe') AND recipient_id != ''`,
      { from, to, c: [...new Set(campaigns)] },
    )
    const byCampaign = new Map<string, string[]>()
    for (const x of rows) {
      const list = byCampaign.get(x.c)
      if (list) list.push(x.r)
      else byCampaign.set(x.c, [x.r])
    }
    for (const [c, rs] of byCampaign) await recomputeSendFacts(store, { campaigns: [c], recipients: rs })
    return rows.length
  })
  return { recipients }
}
