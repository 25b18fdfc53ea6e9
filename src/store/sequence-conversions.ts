import { randomUUID } from 'node:crypto'
import { queryRows, type EventStore } from './clickhouse.js'
import { advanceEventCursor } from './event-cursor.js'
import { serialQueue } from '../util/serial-queue.js'

/**
 * sequence_conversions (migration 3800): per entry, the goal's conversions in the goal's window after
 * it. Rows are recomputed whole from sequence_enrollments and the events, never patched, so any
 * computation that started after the entries and conversions it depends on were stored gives the
 * right row, and the latest one wins. Computations run one at a time in this process (below): a
 * change of goal, the catch-up and an enrolment's rows then never interleave their reads of the goal.
 */

/** A sequence's goal: conversions of `type` within `withinMs` of entry. */
export interface ConversionGoal {
  sequenceId: string
  type: string
  withinMs: number
}

/** The text a row and the sequence's marker carry for a goal: a change of kind or window is another goal. */
export const goalKey = (g: { type: string; withinMs: number }): string => `${g.type}/${g.withinMs}`

/** Recipients per statement: their ids travel as a query parameter. */
const CHUNK = 10_000

/** One queue for the whole process: the computations of every store and sequence in turn. */
const computations = serialQueue<object>()
const PROCESS = {}
/** Runs `fn` after every computation started before it in this process has ended. */
export const serially = <T>(fn: () => Promise<T>): Promise<T> => computations.run(PROCESS, fn)

/**
 * The goal's conversions per recipient (ascending ms), valid tokens only; a conversion without a kind
 * is a purchase (as the exits on conversion read them).
 */
const conversionsSql = (db: string, byRecipient: string) => `
  SELECT recipient_id, arraySort(groupArray(toUnixTimestamp64Milli(ts))) AS convs
  FROM ${db}.events
  WHERE type = 'conversion' AND token_valid AND recipient_id != ''${byRecipient}
    AND (JSONExtractString(extra, 'kind') = {kind:String} OR (JSONExtractString(extra, 'kind') = '' AND {kind:String} = 'purchase'))
  GROUP BY recipient_id`

/**
 * Recomputes the rows of a sequence's entries (of these recipients, or all) under its goal: a row
 * for each entry with a conversion in its window (with its step sends, read from the sends' rows of
 * sequence_send_facts: kept in one part, and written before sentConversions runs), and an empty one
 * for an entry that had a row and has none any more. Its version is the time the statement started (µs).
 */
export async function recomputeEntryConversions(store: EventStore, goal: ConversionGoal, recipients?: readonly string[]): Promise<void> {
  const all = recipients === undefined
  const ids = all ? [] : [...new Set(recipients)].filter((r) => r !== '')
  for (let i = 0; all ? i === 0 : i < ids.length; i += CHUNK) {
    const byRecipient = all ? '' : ' AND recipient_id IN {r:Array(String)}'
    await store.client.command({
      query: `INSERT INTO ${store.db}.sequence_conversions
              SELECT e.sequence_id, e.recipient_id, e.entered_at, {g:String},
                     arrayFilter(x -> x >= e.ms AND x <= e.ms + {within:Int64}, c.convs) AS kept,
                     if(notEmpty(kept), d.steps, []), if(notEmpty(kept), d.sent, []), toUInt64(toUnixTimestamp64Micro(now64(6)))
              FROM (SELECT sequence_id, recipient_id, entered_at, toUnixTimestamp64Milli(entered_at) AS ms FROM ${store.db}.sequence_enrollments FINAL
                    WHERE sequence_id = {s:String}${byRecipient}) AS e
              LEFT ANY JOIN (${conversionsSql(store.db, byRecipient)}) AS c ON c.recipient_id = e.recipient_id
              LEFT ANY JOIN (
                SELECT recipient_id, entered_at, groupArray(step_id) AS steps, groupArray(toUnixTimestamp64Milli(sent_at)) AS sent
                FROM ${store.db}.sequence_send_facts FINAL
                WHERE sequence_id = {s:String}${byRecipient} AND recipient_id IN (SELECT recipient_id FROM (${conversionsSql(store.db, byRecipient)}))
                GROUP BY recipient_id, entered_at
              ) AS d ON d.recipient_id = e.recipient_id AND d.entered_at = e.entered_at
              WHERE notEmpty(kept)
                 OR (e.recipient_id, e.entered_at) IN (SELECT recipient_id, entered_at FROM ${store.db}.sequence_conversions WHERE sequence_id = {s:String}${byRecipient})`,
      query_params: { s: goal.sequenceId, g: goalKey(goal), kind: goal.type, within: goal.withinMs, ...(all ? {} : { r: ids.slice(i, i + CHUNK) }) },
      // A fresh token: a replicated table would drop a block identical to an earlier one. The
      // filters under FINAL are on sorting-key columns (every version of a row has the same), so
      // applying them before the merge (PREWHERE) gives the same rows and reads the recipients' only.
      clickhouse_settings: { insert_deduplication_token: `seq-conv:${randomUUID()}`, optimize_move_to_prewhere_if_final: 1 },
    })
  }
}

/** Each sequence's goal whose rows are complete ('' or absent: none). */
async function markers(store: EventStore, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const rows = await queryRows<{ s: string; g: string }>(
    store,
    `SELECT sequence_id AS s, argMax(goal, version) AS g FROM ${store.db}.sequence_conversion_goals WHERE sequence_id IN {ids:Array(String)} GROUP BY sequence_id`,
    { ids },
  )
  return new Map(rows.map((r) => [r.s, r.g]))
}

async function mark(store: EventStore, sequenceId: string, goal: string): Promise<void> {
  await store.client.insert({
    table: `${store.db}.sequence_conversion_goals`,
    format: 'JSONEachRow',
    values: [{ sequence_id: sequenceId, goal, version: Math.round((performance.timeOrigin + performance.now()) * 1000) }],
    clickhouse_settings: { insert_deduplication_token: `seq-conv-goal:${randomUUID()}`, async_insert: 0 },
  })
}

/** Before a change of a sequence's goal is committed: its rows are not complete for any goal until computed again. */
export async function forgetGoal(store: EventStore, sequenceId: string): Promise<void> {
  await serially(() => mark(store, sequenceId, ''))
}

/**
 * Brings sequence_conversions up to date for a read of `goal`'s sequence: the conversions stored
 * since the cursor, up to `committed` (the writers' sequence), applied to the entries of their
 * recipients in every sequence whose rows are complete for its current goal (`goals()`, read here,
 * after every earlier computation ended), then the cursor moved; then, if the sequence's rows are
 * not complete for its goal (the first read after the migration or a change of goal), all of them
 * computed. Without new conversions and with the rows complete it reads two small tables.
 */
export async function catchUpConversions(
  store: EventStore,
  committed: number,
  goals: () => Promise<ConversionGoal[]>,
  sequenceId: string,
): Promise<{ recipients: number; computed: boolean }> {
  return serially(async () => {
    const db = store.db
    const current = await goals()
    const done = await markers(store, current.map((g) => g.sequenceId))
    const recipients = await advanceEventCursor(store, 'sequence_conversions_cursor', committed, async (from, to) => {
      const complete = current.filter((g) => done.get(g.sequenceId) === goalKey(g))
      if (complete.length === 0) return 0
      const rows = await queryRows<{ r: string }>(
        store,
        `SELECT DISTINCT recipient_id AS r FROM ${db}.events
         WHERE seq > {from:UInt64} AND seq <= {to:UInt64} AND type = 'conversion' AND token_valid AND recipient_id != ''`,
        { from, to },
      )
      if (rows.length > 0) for (const g of complete) await recomputeEntryConversions(store, g, rows.map((x) => x.r))
      return rows.length
    })
    const goal = current.find((g) => g.sequenceId === sequenceId)
    if (!goal || done.get(sequenceId) === goalKey(goal)) return { recipients, computed: false }
    await recomputeEntryConversions(store, goal)
    await mark(store, sequenceId, goalKey(goal))
    return { recipients, computed: true }
  })
}

/**
 * After steps were sent to these recipients (sequence_sends written): the rows of those who have one
 * (a converted entry carries its sends), under the sequence's goal as `goal()` reads it once every
 * earlier computation ended. The others get their sends with their first conversion (the catch-up).
 */
export async function sentConversions(store: EventStore, goal: () => Promise<ConversionGoal | null>, recipients: readonly string[]): Promise<void> {
  if (recipients.length === 0) return
  await serially(async () => {
    const g = await goal()
    if (!g) return
    const ids = [...new Set(recipients)]
    const withRow: string[] = []
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await queryRows<{ r: string }>(
        store,
        `SELECT DISTINCT recipient_id AS r FROM ${store.db}.sequence_conversions WHERE sequence_id = {s:String} AND recipient_id IN {r:Array(String)}`,
        { s: g.sequenceId, r: ids.slice(i, i + CHUNK) },
      )
      withRow.push(...rows.map((x) => x.r))
    }
    if (withRow.length > 0) await recomputeEntryConversions(store, g, withRow)
  })
}

/**
 * The rows of entries just written (an enrolment) for these recipients, under the sequence's goal
 * as read by `goal()` once every earlier computation ended: an entry dated in the past may have
 * conversions stored already. Conversions stored later reach them by the catch-up. Only the
 * recipients with a conversion of the goal's kind at or after `since` (the earliest entry) are
 * computed: the rest have no row to write.
 */
export async function enrolledConversions(store: EventStore, goal: () => Promise<ConversionGoal | null>, recipients: readonly string[], since: number): Promise<void> {
  if (recipients.length === 0) return
  await serially(async () => {
    const g = await goal()
    if (!g) return
    // The goal's converters since the earliest entry, matched here: an entry dated now has next to
    // none (the month partitions and the conversions' place in the sort key narrow the read), and
    // 10,000 ids as a parameter cost more than the read.
    const rows = await queryRows<{ r: string }>(
      store,
      `SELECT DISTINCT recipient_id AS r FROM ${store.db}.events
       WHERE type = 'conversion' AND token_valid AND recipient_id != '' AND ts >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
         AND (JSONExtractString(extra, 'kind') = {kind:String} OR (JSONExtractString(extra, 'kind') = '' AND {kind:String} = 'purchase'))`,
      { since, kind: g.type },
    )
    const wanted = new Set(recipients)
    const buyers = rows.map((x) => x.r).filter((r) => wanted.has(r))
    if (buyers.length > 0) await recomputeEntryConversions(store, g, buyers)
  })
}
