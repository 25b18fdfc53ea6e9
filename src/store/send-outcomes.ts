import { randomUUID } from 'node:crypto'
import { queryRows, type EventStore } from './clickhouse.js'

/**
 * recipient_send_outcomes (migration 3600): per recipient, each sent campaign's latest send time and
 * its human open, click and unsubscribe bits, in time order, for the fatigue curve. Rows are
 * recomputed whole from recipient_sends and recipient_engagement (both kept by views, the latter
 * rebuilt after reclassification), never patched, so any computation that started after what it
 * depends on was stored gives the right row, and the latest one wins.
 */

/** Recipients per statement: their ids travel as a query parameter (a sends call's 10,000 in one). */
const CHUNK = 10_000

/**
 * The rows of the recipients in {ids}: the same SELECT as the migration's backfill. Their rows of
 * recipient_sends are merged by a GROUP BY (what FINAL does, maxMap), not FINAL: a sends call leaves
 * a small part spread over every recipient, and FINAL then merged the whole table's maps for 10,000
 * of them (~1 s CPU at 1 M recipients). The engagement maps are concatenated the same way (an id
 * twice changes no bit).
 */
const ROWS = (db: string) => `
  SELECT cityHash64(recipient_id), recipient_id,
         arrayMap(x -> x.1, pairs), arrayMap(x -> x.2, pairs), arrayMap(x -> x.3, pairs),
         toUInt64(toUnixTimestamp64Micro(now64(6)))
  FROM (
    SELECT s.recipient_id,
           arraySort(arrayMap((c, t) -> (t, cityHash64(c), toUInt8(has(e.o, c) + 2 * has(e.k, c) + 4 * has(e.u, c))), s.sends.1, s.sends.2)) AS pairs
    FROM (SELECT recipient_id, maxMap(sends) AS sends FROM ${db}.recipient_sends WHERE recipient_id IN {ids:Array(String)} GROUP BY recipient_id) AS s
    LEFT JOIN (
      SELECT recipient_id, groupArrayArray(opens.1) AS o, groupArrayArray(clicks.1) AS k, groupArrayArray(unsubscribes.1) AS u
      FROM ${db}.recipient_engagement WHERE recipient_id IN {ids:Array(String)} GROUP BY recipient_id
    ) AS e ON e.recipient_id = s.recipient_id
  )`

/**
 * Recomputes these recipients' rows. Its version is the time the statement started (µs), taken
 * with the snapshot it reads: a later computation read later data and wins. A recipient without
 * sends gets no row (erasure deletes theirs).
 */
export async function recomputeSendOutcomes(store: EventStore, recipientIds: readonly string[]): Promise<void> {
  const ids = [...new Set(recipientIds)].filter((r) => r !== '')
  for (let i = 0; i < ids.length; i += CHUNK) {
    await store.client.command({
      query: `INSERT INTO ${store.db}.recipient_send_outcomes ${ROWS(store.db)}`,
      query_params: { ids: ids.slice(i, i + CHUNK) },
      // A fresh token: a replicated table would drop a block identical to an earlier one (a row
      // recomputed to the same values), and chDB keeps an earlier insert's token.
      clickhouse_settings: { insert_deduplication_token: `send-outcomes:${randomUUID()}` },
    })
  }
}

/**
 * Applies the human opens, clicks and unsubscribes stored since the cursor, up to `committed` (the
 * writers' sequence: nothing at or below it is still to be inserted), to their recipients' rows,
 * then moves the cursor. Run before each fatigue read, so the curve sees every event stored before
 * it; without new events it reads one row. Two callers at once compute the same rows. An event
 * stored as a machine's and later found human is applied by the reclassification, which recomputes
 * its recipient (src/classification/apply.ts).
 */
export async function applyStoredOutcomes(store: EventStore, committed: number): Promise<{ recipients: number }> {
  const db = store.db
  const [cur] = await queryRows<{ seq: number }>(store, `SELECT max(seq) AS seq FROM ${db}.recipient_send_outcomes_cursor`)
  const from = Number(cur?.seq ?? 0)
  if (committed <= from) return { recipients: 0 }
  const rows = await queryRows<{ r: string }>(
    store,
    `SELECT DISTINCT recipient_id AS r FROM ${db}.events
     WHERE seq > {from:UInt64} AND seq <= {to:UInt64} AND type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''`,
    { from, to: committed },
  )
  await recomputeSendOutcomes(
    store,
    rows.map((x) => x.r),
  )
  await store.client.insert({
    table: `${db}.recipient_send_outcomes_cursor`,
    format: 'JSONEachRow',
    values: [{ seq: committed, at: new Date().toISOString().slice(0, 23).replace('T', ' ') }],
    clickhouse_settings: { insert_deduplication_token: `send-outcomes-cursor:${randomUUID()}`, async_insert: 0 },
  })
  return { recipients: rows.length }
}
