import { randomUUID } from 'node:crypto'
import { asc, sql } from 'drizzle-orm'
import { queryRows, type EventStore } from './clickhouse.js'
import { advanceEventCursor } from './event-cursor.js'
import { anyOf, type MetaStore } from './meta.js'
import { quietTimer } from '../util/quiet-timer.js'
import { recipientErasures, sendOutcomesPending } from './schema.js'
import { serialQueue } from '../util/serial-queue.js'

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
  const recipients = await advanceEventCursor(store, 'recipient_send_outcomes_cursor', committed, async (from, to) => {
    const rows = await queryRows<{ r: string }>(
      store,
      `SELECT DISTINCT recipient_id AS r FROM ${store.db}.events
       WHERE seq > {from:UInt64} AND seq <= {to:UInt64} AND type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''`,
      { from, to },
    )
    await recomputeSendOutcomes(
      store,
      rows.map((x) => x.r),
    )
    return rows.length
  })
  return { recipients }
}

type Stores = { meta: MetaStore; events: EventStore }

/**
 * Queues these recipients' rows to be recomputed (a sends call: recipient_sends, filled by its view,
 * already holds the send), in one metadata row, and schedules the catch-up.
 * Recomputing them in the call cost ~0.6–1 s CPU per 10,000 whatever their number (most of it reads
 * the two summaries across the table), and one pass over several calls' recipients costs about the
 * same as over one's (bench/README.md, "Tenth session, second pass: fatigue's write cost").
 */
export async function queueSendOutcomes(deps: Stores, recipientIds: readonly string[]): Promise<void> {
  const ids = [...new Set(recipientIds)].filter((r) => r !== '')
  if (ids.length === 0) return
  await deps.meta.db.insert(sendOutcomesPending).values({ recipientIds: ids })
  scheduleCatchUp(deps.events, deps)
}

/** Queued calls read per catch-up round (a round recomputes their recipients, then deletes them). */
const CATCH_UP_PAGE = 100

/** The catch-up running (or last run) per event store in this process: calls, and erasures' deletes, queue behind it. */
const runs = serialQueue<object>()

/** Runs `f` after every catch-up queued in this process so far, and before any queued later. */
const serially = <T>(deps: Stores, f: () => Promise<T>): Promise<T> => runs.run(deps.events, f)

/**
 * Recomputes the rows of every queued recipient (once each), then deletes the
 * queue rows it read (rows queued meanwhile stay for the next). Everything that reads
 * recipient_send_outcomes awaits this first, so no queued send is missing from an answer. Calls in
 * this process run one after the other; each one after the call began reads every row committed
 * before it. A failure leaves the rows queued (the next call does them; a row computed twice is the
 * same row, the later version). Another process doing the same rows at once computes the same rows.
 */
export function catchUpSendOutcomes(deps: Stores): Promise<void> {
  return serially(deps, () => drain(deps))
}

async function drain(deps: Stores): Promise<void> {
  const p = sendOutcomesPending
  for (;;) {
    const rows = await deps.meta.db.select().from(p).orderBy(asc(p.id)).limit(CATCH_UP_PAGE)
    if (rows.length === 0) return
    const recipients = [...new Set(rows.flatMap((r) => r.recipientIds))]
    // 10,000 ids per statement (a query parameter: a server's URL limit), each statement reading the
    // summaries once; a recipient queued by several calls is recomputed once.
    await recomputeSendOutcomes(deps.events, recipients)
    // An erasure in another process that deleted its rows after this recompute read the summaries
    // and before it wrote would see its row written again: delete it again (one in this process
    // queues its delete behind this catch-up).
    const erased = await deps.meta.db.select({ id: recipientErasures.recipientId }).from(recipientErasures).where(anyOf(recipientErasures.recipientId, recipients))
    for (const r of erased) await deleteRow(deps.events, r.id)
    await deps.meta.db.delete(p).where(sql`${p.id} = ANY(${sql.param(rows.map((r) => r.id))}::bigint[])`)
    if (rows.length < CATCH_UP_PAGE) return
  }
}

/**
 * A process stopping: no catch-up starts any more, and the one running ends before the stores close
 * (what is still queued is done by the next process's first catch-up).
 */
export async function stopSendOutcomes(events: object): Promise<void> {
  scheduleCatchUp.cancel(events)
  await runs.idle(events)
}

function deleteRow(store: EventStore, recipientId: string) {
  return store.client.command({
    query: `ALTER TABLE ${store.db}.recipient_send_outcomes DELETE WHERE rk = cityHash64({r:String}) AND recipient_id = {r:String} SETTINGS mutations_sync = 2`,
    query_params: { r: recipientId },
  })
}

/**
 * Erasure: the recipient leaves the queue, then their row goes, after any catch-up already running in
 * this process (which may have read them before they went). Run after the two summaries are deleted:
 * a recompute starting later finds no sends of theirs.
 */
export async function eraseSendOutcomes(deps: Stores, recipientId: string): Promise<void> {
  const p = sendOutcomesPending
  await deps.meta.db.update(p).set({ recipientIds: sql`array_remove(${p.recipientIds}, ${recipientId}::text)` }).where(sql`${recipientId}::text = ANY(${p.recipientIds})`)
  await serially(deps, () => deleteRow(deps.events, recipientId))
}

/**
 * The catch-up after the answer, 1 s after the last sends queued (at most 5 s after the first): a
 * sender posting batches back to back pays for no recompute during them, and one pass does several
 * batches' recipients.
 */
const scheduleCatchUp = quietTimer<object, Stores>((deps) => catchUpSendOutcomes(deps), 1_000, 5_000)
