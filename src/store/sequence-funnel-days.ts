import { randomUUID } from 'node:crypto'
import { queryRows, type EventStore } from './clickhouse.js'
import { serialQueue } from '../util/serial-queue.js'

/**
 * sequence_funnel_days (migration 3900): the funnel's four parts per sequence and UTC day of entry,
 * recomputed whole for the days marked since their row was computed (sequence_funnel_marks, written
 * by views on every insert into the tables the funnel reads, and by markEntryDays after a delete).
 */

/**
 * A mark this much older than a row's computation still makes its day dirty: an insert marks its
 * days when its rows pass the view, and its rows may become visible a little later (a large
 * INSERT … SELECT commits block by block; on a cluster, replication and the servers' clocks), so a
 * computation that started in between may not have read them. Every read within this time after a
 * write to a day recomputes that day. (Tests set it to 0: with one process, an insert's rows are
 * visible when it returns, and a read right after a write then shows it only if the marks work.)
 */
export const funnelDaysMargin = { seconds: 10 }

/** What a sequence's rows are computed for: its creation (a deleted sequence's id reused) and its goal. */
export const funnelSpec = (createdAt: Date, goal: string): string => `${createdAt.getTime()}/${goal}`

/** A day (epoch ms at 00:00 UTC, or a day number) as ClickHouse's Date text. */
export const dayText = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/**
 * The rows of a sequence's days as the table holds them, computed from sequence_enrollments,
 * sequence_send_facts and sequence_conversions (FINAL: their latest rows), for the entries of the
 * days {days:Array(Date)} (and, with `window`, in [{from}, {to}) epoch ms only). Every day listed
 * gets a row, empty when it has no entries any more. The filters under FINAL are on sorting-key
 * columns (the same in every version of a row): applied before the merge, they give the same rows.
 * Params: s, spec, days, g (the goal's key, '' for none), and from/to with `window`.
 */
export function dayRowsSql(db: string, opts: { window?: { from: boolean; to: boolean } }): string {
  const w = opts.window
  const range = `sequence_id = {s:String} AND toDate(entered_at) IN {days:Array(Date)}${w?.from ? ` AND entered_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')` : ''}${w?.to ? ` AND entered_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')` : ''}`
  const convRows = `SELECT toDate(entered_at) AS day, toUnixTimestamp64Milli(entered_at) AS entered_ms, convs, steps, sent
                    FROM (SELECT entered_at, goal, convs, steps, sent FROM ${db}.sequence_conversions FINAL WHERE ${range})
                    WHERE goal = {g:String} AND notEmpty(convs)`
  return `SELECT {s:String} AS sequence_id, d.day AS day, {spec:String} AS spec, now64(6, 'UTC') AS computed_at,
         e.status AS entry_status, e.reason AS entry_reason, e.step AS entry_step, e.n AS entry_n, e.first AS entry_first, e.last AS entry_last, e.times AS entry_times,
         f.step AS step_id, f.campaign AS step_campaign, f.sent AS step_sent, f.ho AS step_human_open, f.mo AS step_machine_open, f.ao AS step_any_open,
         f.hu AS step_human_unsubscribe, f.mu AS step_machine_unsubscribe, f.au AS step_any_unsubscribe,
         f.hc AS step_human_click, f.mc AS step_machine_click, f.ac AS step_any_click,
         c.ms AS conversion_ms, sc.step AS conversion_step, sc.ms AS conversion_step_ms
  FROM (SELECT arrayJoin({days:Array(Date)}) AS day) AS d
  LEFT JOIN (
    SELECT day, groupArray(status) AS status, groupArray(exit_reason) AS reason, groupArray(exit_step_id) AS step, groupArray(n) AS n,
           groupArray(first) AS first, groupArray(last) AS last, groupArray(times) AS times
    FROM (SELECT toDate(entered_at) AS day, status, exit_reason, exit_step_id, count() AS n, min(toUnixTimestamp64Milli(entered_at)) AS first,
                 max(toUnixTimestamp64Milli(entered_at)) AS last, groupArray(toUnixTimestamp64Milli(entered_at)) AS times
          FROM ${db}.sequence_enrollments FINAL WHERE ${range} GROUP BY day, status, exit_reason, exit_step_id)
    GROUP BY day
  ) AS e ON e.day = d.day
  LEFT JOIN (
    SELECT day, groupArray(step_id) AS step, groupArray(campaign_id) AS campaign, groupArray(n) AS sent, groupArray(ho) AS ho, groupArray(mo) AS mo, groupArray(ao) AS ao,
           groupArray(hu) AS hu, groupArray(mu) AS mu, groupArray(au) AS au, groupArray(hc) AS hc, groupArray(mc) AS mc, groupArray(ac) AS ac
    FROM (SELECT day, step_id, campaign_id, count() AS n, countIf(human_open = 1) AS ho, countIf(machine_open = 1) AS mo, countIf(human_open = 1 OR machine_open = 1) AS ao,
                 countIf(human_unsubscribe = 1) AS hu, countIf(machine_unsubscribe = 1) AS mu, countIf(human_unsubscribe = 1 OR machine_unsubscribe = 1) AS au,
                 groupArrayIf(human_click - sent_ms, human_click > 0) AS hc, groupArrayIf(machine_click - sent_ms, machine_click > 0) AS mc,
                 groupArrayIf(any_click - sent_ms, any_click > 0) AS ac
          FROM (SELECT toDate(entered_at) AS day, step_id, campaign_id, toUnixTimestamp64Milli(sent_at) AS sent_ms, human_open, machine_open, human_unsubscribe, machine_unsubscribe,
                       human_click, machine_click, if(human_click = 0, machine_click, if(machine_click = 0, human_click, least(human_click, machine_click))) AS any_click
                FROM ${db}.sequence_send_facts FINAL WHERE ${range})
          GROUP BY day, step_id, campaign_id)
    GROUP BY day
  ) AS f ON f.day = d.day
  LEFT JOIN (SELECT day, groupArray(convs[1] - entered_ms) AS ms FROM (${convRows}) GROUP BY day) AS c ON c.day = d.day
  LEFT JOIN (
    SELECT day, groupArray(step_id) AS step, groupArray(ms) AS ms
    FROM (SELECT day, step_id, groupArrayIf(conv_at - entered_ms, conv_at > 0) AS ms
          FROM (SELECT day, entered_ms, step_id, arrayFirst(x -> x >= greatest(sent_ms, entered_ms), convs) AS conv_at FROM (${convRows}) ARRAY JOIN steps AS step_id, sent AS sent_ms)
          GROUP BY day, step_id)
    GROUP BY day
  ) AS sc ON sc.day = d.day`
}

/** One queue for the process: two reads never compute the same days at once. */
const refreshes = serialQueue<object>()
const PROCESS = {}

/**
 * Recomputes the sequence's dirty days: marked after their row's computation less the margin,
 * marked and without a row, or with a row of another spec. One statement for all of them. Run
 * before each funnel read, after the catch-ups that bring the tables it reads up to date (their
 * inserts mark their days). Returns how many days were computed.
 */
export function refreshFunnelDays(store: EventStore, seq: { id: string; spec: string; goal: string }): Promise<number> {
  return refreshes.run(PROCESS, async () => {
    const db = store.db
    const params = { s: seq.id, spec: seq.spec, g: seq.goal }
    const dirty = await queryRows<{ d: string }>(
      store,
      `SELECT toString(k.day) AS d FROM (SELECT day, max(marked_at) AS m FROM ${db}.sequence_funnel_marks WHERE sequence_id = {s:String} GROUP BY day) AS k
       LEFT JOIN (SELECT day, spec, computed_at FROM ${db}.sequence_funnel_days FINAL WHERE sequence_id = {s:String}) AS c ON c.day = k.day
       WHERE c.spec != {spec:String} OR k.m > c.computed_at - toIntervalSecond({margin:UInt32})
       UNION DISTINCT
       SELECT toString(day) AS d FROM ${db}.sequence_funnel_days FINAL WHERE sequence_id = {s:String} AND spec != {spec:String}`,
      { ...params, margin: funnelDaysMargin.seconds },
    )
    if (dirty.length === 0) return 0
    await store.client.command({
      query: `INSERT INTO ${db}.sequence_funnel_days ${dayRowsSql(db, {})}`,
      query_params: { ...params, days: dirty.map((r) => r.d) },
      // A fresh token: a replicated table would drop a block identical to an earlier one.
      clickhouse_settings: { insert_deduplication_token: `funnel-days:${randomUUID()}`, optimize_move_to_prewhere_if_final: 1 },
    })
    return dirty.length
  })
}

/** Resolves once the computation running in this process (if any) has ended: a process stopping. */
export const funnelDaysIdle = (): Promise<void> => refreshes.idle(PROCESS)

/** The (sequence, day of entry) of a recipient's entries: read before they are deleted, marked after. */
export async function entryDaysOf(store: EventStore, recipientId: string): Promise<Array<[string, string]>> {
  const rows = await queryRows<{ s: string; d: string }>(
    store,
    `SELECT DISTINCT sequence_id AS s, toString(toDate(entered_at)) AS d FROM ${store.db}.sequence_enrollments WHERE recipient_id = {r:String}`,
    { r: recipientId },
  )
  return rows.map((r) => [r.s, r.d])
}

/**
 * Marks days dirty after rows of theirs were deleted (an ALTER DELETE: no view sees it). Written
 * once the delete has ended, so any computation that could have read the deleted rows started
 * before the mark.
 */
export async function markEntryDays(store: EventStore, days: ReadonlyArray<readonly [string, string]>): Promise<void> {
  if (days.length === 0) return
  await store.client.command({
    query: `INSERT INTO ${store.db}.sequence_funnel_marks SELECT s, toDate(d), now64(6, 'UTC') FROM system.one ARRAY JOIN {s:Array(String)} AS s, {d:Array(String)} AS d`,
    query_params: { s: days.map((x) => x[0]), d: days.map((x) => x[1]) },
    clickhouse_settings: { insert_deduplication_token: `funnel-marks:${randomUUID()}`, async_insert: 0 },
  })
}
