import { randomUUID } from 'node:crypto'
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm'
import { nanoid } from 'nanoid'
import type { AppDeps } from '../deps.js'
import { chDateTime, insertRows } from '../store/clickhouse.js'
import { anyOf, type MetaDb } from '../store/meta.js'
import { enrolledConversions, forgetGoal, goalKey, sentConversions, serially, type ConversionGoal } from '../store/sequence-conversions.js'
import { recomputeSendFacts } from '../store/sequence-facts.js'
import { entryDaysOf, markEntryDays } from '../store/sequence-funnel-days.js'
import {
  campaigns,
  recipientErasures,
  SEQUENCE_EXIT_ON,
  sequenceEnrollments,
  sequenceGoalCursor,
  sequenceGoalRecipients,
  sequenceMirrorPending,
  sequences,
  suppressions,
  type EnrollmentStatus,
  type SequenceExitOn,
  type SequenceGoal,
  type SequenceStep,
} from '../store/schema.js'
import { parseDuration } from '../util/duration.js'
import { conflict, DomainError, invalid, notFound } from '../util/errors.js'
import { quietTimer } from '../util/quiet-timer.js'
import { serialQueue } from '../util/serial-queue.js'
import { GLOBAL_SCOPE } from './suppressions.js'

export const MAX_STEPS = 50
export const MAX_ENROLLMENTS_PER_CALL = 10_000

/** Why a recipient left a sequence (or was not let in). */
export type ExitReason = 'converted' | 'unsubscribed' | 'suppressed' | 'removed' | 'erased' | 'reentered'

export interface Sequence {
  id: string
  name: string
  steps: SequenceStep[]
  exitOn: SequenceExitOn[]
  goal: SequenceGoal | null
  createdAt: Date
  updatedAt: Date
}

export interface SequenceInput {
  id?: string | undefined
  name: string
  steps: Array<{ id: string; campaignId: string; offset: string }>
  exitOn?: SequenceExitOn[] | undefined
  goal?: { type?: string | undefined; within: string } | null | undefined
}

type MetaDeps = Pick<AppDeps, 'meta'>
type Deps = Pick<AppDeps, 'meta' | 'events' | 'clock'>
type GoalDeps = Pick<AppDeps, 'meta' | 'events'>

const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } }
  return e?.code === '23505' || e?.cause?.code === '23505'
}

/**
 * Steps checked against the rules (ids unique, offsets ISO-8601 and strictly increasing, every
 * campaign existing and used once: a campaign's opens and clicks are its step's, so two steps
 * sharing one could not be told apart), each with its offset in ms.
 */
async function checkSteps(deps: MetaDeps, steps: SequenceInput['steps']): Promise<SequenceStep[]> {
  if (steps.length === 0) throw invalid('body.steps: at least one step')
  if (steps.length > MAX_STEPS) throw invalid(`body.steps: at most ${MAX_STEPS} steps`)
  const out: SequenceStep[] = []
  const ids = new Set<string>()
  const campaignIds = new Set<string>()
  for (const [i, s] of steps.entries()) {
    if (ids.has(s.id)) throw invalid(`body.steps.${i}.id: step id ${s.id} is used twice`)
    if (campaignIds.has(s.campaignId)) throw invalid(`body.steps.${i}.campaignId: campaign ${s.campaignId} is already step ${out.find((o) => o.campaignId === s.campaignId)!.id}; each step needs its own campaign`)
    const offsetMs = parseDuration(s.offset)
    if (offsetMs === null) throw invalid(`body.steps.${i}.offset: ${JSON.stringify(s.offset)} is not an ISO-8601 duration in weeks, days, hours, minutes or seconds (P3D, PT12H, P1DT6H)`)
    const prev = out[out.length - 1]
    if (prev && offsetMs <= prev.offsetMs) throw invalid(`body.steps.${i}.offset: ${s.offset} is not after step ${prev.id}'s ${prev.offset}; offsets must increase step by step`)
    ids.add(s.id)
    campaignIds.add(s.campaignId)
    out.push({ id: s.id, campaignId: s.campaignId, offset: s.offset, offsetMs })
  }
  const found = new Set((await deps.meta.db.select({ id: campaigns.id }).from(campaigns).where(inArray(campaigns.id, [...campaignIds]))).map((r) => r.id))
  const missing = out.findIndex((s) => !found.has(s.campaignId))
  if (missing >= 0) throw invalid(`body.steps.${missing}.campaignId: campaign ${out[missing]!.campaignId} does not exist`)
  return out
}

function checkGoal(goal: SequenceInput['goal']): SequenceGoal | null {
  if (!goal) return null
  const withinMs = parseDuration(goal.within)
  if (withinMs === null || withinMs === 0) throw invalid(`body.goal.within: ${JSON.stringify(goal.within)} is not a positive ISO-8601 duration (P14D, PT48H)`)
  return { type: goal.type ?? 'purchase', within: goal.within, withinMs }
}

function checkExitOn(exitOn: SequenceExitOn[] | undefined, goal: SequenceGoal | null): SequenceExitOn[] {
  const list = [...new Set(exitOn ?? (goal ? SEQUENCE_EXIT_ON : SEQUENCE_EXIT_ON.filter((e) => e !== 'converted')))]
  if (list.includes('converted') && !goal) throw invalid('body.exitOn: "converted" needs a goal (goal: {type, within})')
  return list
}

export async function createSequence(deps: MetaDeps, input: SequenceInput): Promise<Sequence> {
  const steps = await checkSteps(deps, input.steps)
  const goal = checkGoal(input.goal)
  const exitOn = checkExitOn(input.exitOn, goal)
  const id = input.id ?? nanoid(12)
  try {
    const [row] = await deps.meta.db.insert(sequences).values({ id, name: input.name, steps, exitOn, goal }).returning()
    return row!
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`sequence ${id} already exists`)
    throw err
  }
}

export async function getSequence(deps: MetaDeps, id: string, db: MetaDb = deps.meta.db): Promise<Sequence> {
  const [row] = await db.select().from(sequences).where(eq(sequences.id, id)).limit(1)
  if (!row) throw notFound(`sequence ${id} not found`)
  return row
}

export async function listSequences(deps: MetaDeps, q: { limit: number; offset: number }): Promise<{ rows: Sequence[]; total: number }> {
  const [rows, [total]] = await Promise.all([
    deps.meta.db.select().from(sequences).orderBy(asc(sequences.createdAt), asc(sequences.id)).limit(q.limit).offset(q.offset),
    deps.meta.db.select({ n: sql<number>`count(*)::int` }).from(sequences),
  ])
  return { rows, total: Number(total?.n ?? 0) }
}

/** Per status, the enrolments of a sequence (the metadata store's current state). */
export async function enrollmentCounts(deps: MetaDeps, id: string): Promise<Record<EnrollmentStatus, number>> {
  await markQueuedExits(deps)
  const rows = await deps.meta.db
    .select({ status: sequenceEnrollments.status, n: sql<number>`count(*)::int` })
    .from(sequenceEnrollments)
    .where(eq(sequenceEnrollments.sequenceId, id))
    .groupBy(sequenceEnrollments.status)
  const out: Record<EnrollmentStatus, number> = { active: 0, completed: 0, exited: 0 }
  for (const r of rows) out[r.status] = Number(r.n)
  return out
}

/**
 * The next step after `reachedMs` (the offset of the last step sent or skipped) as SQL over the
 * steps given as parameters: the first with a larger offset. The same rule as nextStep below.
 */
function nextStepSql(steps: SequenceStep[], reached: ReturnType<typeof sql>, sent: ReturnType<typeof sql>) {
  const ids = steps.map((s) => s.id)
  const offsets = steps.map((s) => s.offsetMs)
  // A step already sent to the entry is never next again, even if its offset moved past `reached`.
  const next = sql`(SELECT s.ord FROM unnest(${sql.param(ids)}::text[], ${sql.param(offsets)}::bigint[]) WITH ORDINALITY AS s(id, off, ord) WHERE s.off > ${reached} AND NOT (${sent} ? s.id) ORDER BY s.off LIMIT 1)`
  return {
    id: sql`(${sql.param(ids)}::text[])[${next}]`,
    offsetMs: sql`(${sql.param(offsets)}::bigint[])[${next}]`,
  }
}

function nextStep(steps: SequenceStep[], reachedMs: number): SequenceStep | undefined {
  return steps.find((s) => s.offsetMs > reachedMs)
}

/**
 * A change of steps applies to what lies ahead of each recipient: an active enrolment's next step
 * becomes the first step whose offset is past the last step it was sent (or skipped), and its due
 * time moves with that step's offset. Recipients who completed the series stay completed; those
 * with no step ahead any more are completed. One transaction: definition and enrolments together.
 */
export async function updateSequence(
  deps: Deps,
  id: string,
  change: { name?: string | undefined; steps?: SequenceInput['steps'] | undefined; exitOn?: SequenceExitOn[] | undefined; goal?: SequenceInput['goal'] },
): Promise<Sequence & { rescheduled: number; completed: number }> {
  const current = await getSequence(deps, id)
  await markQueuedExits(deps)
  const steps = change.steps ? await checkSteps(deps, change.steps) : current.steps
  const goal = change.goal !== undefined ? checkGoal(change.goal) : current.goal
  const exitOn = change.exitOn !== undefined || change.goal !== undefined ? checkExitOn(change.exitOn ?? (change.goal === null ? undefined : current.exitOn), goal) : current.exitOn
  const completedRows: Array<{ recipientId: string; enteredAt: Date }> = []
  let rescheduled = 0
  // Before the change is committed: a funnel read from then on computes the entries' conversions again
  // (under whichever goal it reads), so none computed for the old goal is taken for the new one.
  if ((goal ? goalKey(goal) : '') !== (current.goal ? goalKey(current.goal) : '')) await forgetGoal(deps.events, id)
  const row = await deps.meta.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(sequences)
      .set({ ...(change.name !== undefined ? { name: change.name } : {}), steps, exitOn, goal, updatedAt: new Date(deps.clock()) })
      .where(eq(sequences.id, id))
      .returning()
    if (!updated) throw notFound(`sequence ${id} not found`)
    if (change.steps) {
      const e = sequenceEnrollments
      const next = nextStepSql(steps, sql`${e.reachedMs}`, sql`${e.sent}`)
      const moved = await tx
        .update(e)
        .set({ nextStepId: next.id, dueAt: sql`${e.enteredAt} + ${next.offsetMs} * interval '1 millisecond'` })
        .where(and(eq(e.sequenceId, id), eq(e.status, 'active')))
        .returning({ recipientId: e.recipientId })
      rescheduled = moved.length
      const done = await tx
        .update(e)
        .set({ status: 'completed', dueAt: null })
        .where(and(eq(e.sequenceId, id), eq(e.status, 'active'), sql`${e.nextStepId} IS NULL`))
        .returning({ recipientId: e.recipientId, enteredAt: e.enteredAt })
      completedRows.push(...done)
    }
    if (change.goal !== undefined || change.exitOn !== undefined) await recomputeGoal(deps, tx, updated)
    return updated
  })
  await mirrorEnrollments(deps, id, completedRows.map((r) => ({ recipientId: r.recipientId, enteredAt: r.enteredAt, status: 'completed' as const })))
  // The funnel's catch-up applies the events of step campaigns only: a campaign that was no step of
  // any sequence for a while may have had events passed over, so its earlier sends here are computed again.
  const added = steps.map((s) => s.campaignId).filter((c) => !current.steps.some((s) => s.campaignId === c))
  if (added.length > 0) await recomputeSendFacts(deps.events, { campaigns: added, sequenceId: id })
  return { ...row, rescheduled: rescheduled - completedRows.length, completed: completedRows.length }
}

/** Deletes the definition, its enrolments and its rows in ClickHouse (the funnel's history). */
export async function deleteSequence(deps: Pick<AppDeps, 'meta' | 'events'>, id: string): Promise<void> {
  await markQueuedExits(deps)
  const deleted = await deps.meta.db.delete(sequences).where(eq(sequences.id, id)).returning({ id: sequences.id })
  if (deleted.length === 0) throw notFound(`sequence ${id} not found`)
  const { db } = deps.events
  // The funnel's days too (migration 3900); a computation racing this writes rows of the deleted
  // sequence's spec (its creation time), which a sequence created later with this id never reads.
  for (const table of ['sequence_enrollments', 'sequence_sends', 'sequence_send_facts', 'sequence_conversions', 'sequence_conversion_goals', 'sequence_funnel_days', 'sequence_funnel_marks']) {
    const del = () => deps.events.client.command({ query: `ALTER TABLE ${db}.${table} DELETE WHERE sequence_id = {s:String} SETTINGS mutations_sync = 2`, query_params: { s: id } })
    // The conversions once every computation running has ended: later ones no longer find the sequence or its entries.
    await (table.startsWith('sequence_conversion') ? serially(del) : del())
  }
}

/** A sequence's goal as the metadata store has it now (null: none, or no such sequence). */
async function currentGoal(deps: MetaDeps, sequenceId: string): Promise<ConversionGoal | null> {
  const g = (await deps.meta.db.select({ goal: sequences.goal }).from(sequences).where(eq(sequences.id, sequenceId)))[0]?.goal
  return g ? { sequenceId, type: g.type, withinMs: g.withinMs } : null
}

/** Whether entries leave on converting: goal_at is kept for these sequences only. */
const exitsOnGoal = <T extends { goal: SequenceGoal | null; exitOn: SequenceExitOn[] }>(s: T): s is T & { goal: SequenceGoal } => s.goal !== null && s.exitOn.includes('converted')

interface StoredConversion {
  id: string
  at: number
  /** The conversion type; a conversion without one is a purchase. */
  kind: string
}

/**
 * A position in the events' insert order: every conversion with seq below `seq`, and those at
 * `seq` up to `eventId` (all of them when it is null). Rows stored before seq existed all have seq
 * 0, so the event id orders them within it: a page of a pass can end inside that one value.
 */
interface GoalCursor {
  seq: number
  eventId: string | null
}
const NOTHING_APPLIED: GoalCursor = { seq: -1, eventId: null }

/** The conversions a pass applies at most per transaction: memory and the lock's time stay bounded. */
export const GOAL_PAGE = 5000

/**
 * Conversions stored after `from` and at or before `to` (valid tokens, a recipient named), in
 * insert order; of these recipients only when `ids` is given; the first `limit` only when given.
 */
async function storedConversions(
  deps: Pick<AppDeps, 'events'>,
  from: GoalCursor,
  to: GoalCursor,
  opts: { ids?: string[]; limit?: number } = {},
): Promise<Array<StoredConversion & { seq: number; eventId: string }>> {
  const { ids, limit } = opts
  const rs = await deps.events.client.query({
    query: `SELECT recipient_id AS id, toUnixTimestamp64Milli(ts) AS at, JSONExtractString(extra, 'kind') AS kind, seq, event_id AS eventId
            FROM ${deps.events.db}.events
            WHERE type = 'conversion' AND token_valid AND recipient_id != ''
              AND ${from.eventId === null ? 'seq > {fs:Int64}' : '(seq > {fs:Int64} OR (seq = {fs:Int64} AND event_id > {fk:String}))'}
              AND ${to.eventId === null ? 'seq <= {ts:Int64}' : '(seq < {ts:Int64} OR (seq = {ts:Int64} AND event_id <= {tk:String}))'}
              ${ids ? 'AND recipient_id IN {ids:Array(String)}' : ''}
            ${limit === undefined ? '' : 'ORDER BY seq, event_id LIMIT {limit:UInt64} WITH TIES'}
            SETTINGS use_skip_indexes = ${ids ? 0 : 1}`,
    // The recipient bloom filter checked against 10,000 ids cost more than it saved (sixth session);
    // without ids the seq minmax index skips the parts a pass has applied already.
    query_params: { fs: from.seq, fk: from.eventId ?? '', ts: to.seq, tk: to.eventId ?? '', ...(ids ? { ids } : {}), ...(limit === undefined ? {} : { limit }) },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  })
  return (await rs.json<{ id: string; at: number | string; kind: string; seq: number | string; eventId: string }>()).map((r) => ({
    id: r.id,
    at: Number(r.at),
    kind: r.kind || 'purchase',
    seq: Number(r.seq),
    eventId: r.eventId,
  }))
}

/**
 * Sets goal_at of a sequence's active entries to the earliest of these conversions that falls
 * in the goal's window after their entry (keeping an earlier one found before). One statement.
 */
async function applyConversions(tx: Pick<MetaDb, 'execute'>, seq: { id: string; goal: SequenceGoal }, conversions: StoredConversion[]): Promise<void> {
  const mine = conversions.filter((c) => c.kind === seq.goal.type)
  if (mine.length === 0) return
  await tx.execute(sql`
    UPDATE sequence_enrollments AS e SET goal_at = LEAST(e.goal_at, m.at)
    FROM (
      SELECT e2.recipient_id, min(x.at) AS at
      FROM unnest(${sql.param(mine.map((c) => c.id))}::text[], ${sql.param(mine.map((c) => new Date(c.at).toISOString()))}::timestamptz[]) AS x(id, at)
      JOIN sequence_enrollments AS e2 ON e2.sequence_id = ${seq.id} AND e2.recipient_id = x.id AND e2.status = 'active'
        AND x.at >= e2.entered_at AND x.at <= e2.entered_at + ${seq.goal.withinMs} * interval '1 millisecond'
      GROUP BY e2.recipient_id
    ) AS m
    WHERE e.sequence_id = ${seq.id} AND e.recipient_id = m.recipient_id`)
}

/** The cursor of applied conversions, locked until the caller's transaction ends. */
async function lockGoalCursor(tx: Pick<MetaDb, 'execute'>, mode: 'update' | 'share'): Promise<GoalCursor> {
  const res: unknown = await tx.execute(sql`SELECT seq, event_id FROM sequence_goal_cursor WHERE id = 1 FOR ${mode === 'update' ? sql`UPDATE` : sql`SHARE`}`)
  const row = (res as { rows: Array<{ seq: number | string; event_id: string | null }> }).rows[0]
  return row ? { seq: Number(row.seq), eventId: row.event_id } : NOTHING_APPLIED
}

/** Whether every conversion up to seq `to` is applied. */
const caughtUp = (c: GoalCursor, to: number) => c.seq > to || (c.seq === to && c.eventId === null)

/**
 * Applies the conversions stored since the last pass to the entries of every sequence that exits
 * on its goal, up to what the event store has committed (the events writer's sequence: nothing at
 * or below it is still to be inserted). Without new events it reads nothing from ClickHouse. In
 * pages of `pageSize` conversions, one transaction each (the cursor moves with the page's
 * updates), until caught up: the caller (`due`) then sees every conversion, however many an
 * upgrade left to apply, without holding them all in memory or the store for the whole catch-up.
 */
export async function applyStoredConversions(deps: GoalDeps & Pick<AppDeps, 'sequence'>, pageSize = GOAL_PAGE): Promise<void> {
  const to = deps.sequence.committed
  for (;;) {
    const [cur] = await deps.meta.db.select({ seq: sequenceGoalCursor.seq, eventId: sequenceGoalCursor.eventId }).from(sequenceGoalCursor).where(eq(sequenceGoalCursor.id, 1))
    if (cur && caughtUp(cur, to)) return
    const done = await deps.meta.db.transaction(async (tx) => {
      const from = await lockGoalCursor(tx, 'update')
      if (caughtUp(from, to)) return true
      const withGoal = (await tx.select({ id: sequences.id, goal: sequences.goal, exitOn: sequences.exitOn }).from(sequences)).filter(exitsOnGoal)
      const conversions = await storedConversions(deps, from, { seq: to, eventId: null }, { limit: pageSize })
      for (const s of withGoal) await applyConversions(tx, s, conversions)
      if (conversions.length > 0) {
        await tx.execute(sql`INSERT INTO sequence_goal_recipients (recipient_id) SELECT DISTINCT id FROM unnest(${sql.param(conversions.map((c) => c.id))}::text[]) AS x(id) ON CONFLICT DO NOTHING`)
      }
      const last = conversions.at(-1)
      const full = last !== undefined && conversions.length >= pageSize
      await tx.update(sequenceGoalCursor).set(full ? { seq: last.seq, eventId: last.eventId } : { seq: to, eventId: null }).where(eq(sequenceGoalCursor.id, 1))
      return !full
    })
    if (done) return
  }
}

/** After a change of goal or exits: goal_at of the sequence's entries found again from every conversion applied so far. */
async function recomputeGoal(deps: Pick<AppDeps, 'events'>, tx: Pick<MetaDb, 'execute'>, seq: { id: string; goal: SequenceGoal | null; exitOn: SequenceExitOn[] }): Promise<void> {
  const upTo = await lockGoalCursor(tx, 'share')
  await tx.execute(sql`UPDATE sequence_enrollments SET goal_at = NULL WHERE sequence_id = ${seq.id} AND goal_at IS NOT NULL`)
  if (!exitsOnGoal(seq)) return
  // Page by page, in this transaction: the entries must not be seen half recomputed.
  for (let from = NOTHING_APPLIED; ; ) {
    const page = await storedConversions(deps, from, upTo, { limit: GOAL_PAGE })
    await applyConversions(tx, seq, page)
    const last = page.at(-1)
    if (!last || page.length < GOAL_PAGE) return
    from = { seq: last.seq, eventId: last.eventId }
  }
}

interface MirrorRow {
  recipientId: string
  enteredAt: Date
  status: EnrollmentStatus
  exitReason?: string | null | undefined
  exitStepId?: string | null | undefined
  exitedAt?: Date | null | undefined
}

/**
 * Writes entries' current state to ClickHouse's sequence_enrollments (what the funnel reads). The
 * metadata store is written first and is the truth: a call that failed here is repeated by its
 * caller, and the repeat writes the same state again (the latest version wins), so the two converge.
 */
async function mirrorEnrollments(deps: Pick<AppDeps, 'events' | 'clock'>, sequenceId: string, rows: MirrorRow[]): Promise<void> {
  if (rows.length === 0) return
  const version = deps.clock()
  await insertRows(
    deps.events,
    'sequence_enrollments',
    ['sequence_id', 'recipient_id', 'entered_at', 'status', 'exit_reason', 'exit_step_id', 'exited_at', 'version'],
    rows.map((r) => [sequenceId, r.recipientId, chDateTime(r.enteredAt.getTime()), r.status, r.exitReason ?? '', r.exitStepId ?? '', chDateTime(r.exitedAt?.getTime() ?? 0), version]),
    { insert_deduplication_token: `seq-enr:${randomUUID()}`, async_insert: 0 },
  )
}

interface EntryState {
  recipientId: string
  enteredAt: Date
  status: EnrollmentStatus
  nextStepId: string | null
  exitReason: string | null
  exitStepId: string | null
  exitedAt: Date | null
}

/** The entries of these recipients, as one JSON text (see dueCandidates for why). */
async function existingEntries(db: Pick<MetaDb, 'execute'>, sequenceId: string, ids: string[]): Promise<EntryState[]> {
  const ms = (col: string) => sql.raw(`(extract(epoch FROM ${col}) * 1000)::bigint`)
  const res: unknown = await db.execute(sql`
    SELECT coalesce(json_agg(json_build_array(recipient_id, ${ms('entered_at')}, status, next_step_id, exit_reason, exit_step_id, ${ms('exited_at')})), '[]')::text AS page
    FROM sequence_enrollments WHERE sequence_id = ${sequenceId} AND recipient_id = ANY(${sql.param(ids)}::text[])`)
  const text = String((res as { rows: Array<{ page: string }> }).rows[0]?.page ?? '[]')
  return (JSON.parse(text) as Array<[string, number, EnrollmentStatus, string | null, string | null, string | null, number | null]>).map((r) => ({
    recipientId: r[0],
    enteredAt: new Date(Number(r[1])),
    status: r[2],
    nextStepId: r[3],
    exitReason: r[4],
    exitStepId: r[5],
    exitedAt: r[6] === null ? null : new Date(Number(r[6])),
  }))
}

export interface EnrollInput {
  id: string
  enteredAt?: Date | undefined
  variant?: string | undefined
  segments?: string[] | undefined
  attributes?: Record<string, string> | undefined
}

export type EnrollSkipReason = 'erased' | 'unsubscribed' | 'suppressed'

export interface EnrollResult {
  enrolled: number
  reentered: number
  /** Already enrolled (active, completed or exited) and not re-entered: nothing changed. */
  unchanged: string[]
  skipped: { count: number; recipients: Array<{ id: string; reason: EnrollSkipReason }> }
}

/** The reason a suppression gives for leaving: an unsubscription, or any other suppression. */
const suppressionReason = (reason: string): 'unsubscribed' | 'suppressed' => (reason === 'unsubscribe' ? 'unsubscribed' : 'suppressed')

/**
 * Enrols recipients, idempotently: a recipient already enrolled is left as is unless `reenter`
 * (then their entry starts again from the first step, the earlier one kept in the funnel's
 * history). Erased and globally suppressed recipients are skipped and said so. All or nothing in
 * the metadata store (one transaction).
 */
export async function enroll(deps: Deps, sequenceId: string, recipients: EnrollInput[], opts: { reenter: boolean }): Promise<EnrollResult> {
  if (recipients.length > MAX_ENROLLMENTS_PER_CALL) throw new DomainError('payload_too_large', `at most ${MAX_ENROLLMENTS_PER_CALL} recipients per call, got ${recipients.length}: split the list`)
  const now = deps.clock()
  const seen = new Set<string>()
  for (const [i, r] of recipients.entries()) {
    if (seen.has(r.id)) throw invalid(`body.recipients.${i}.id: ${r.id} is listed twice`)
    seen.add(r.id)
    if (r.enteredAt && r.enteredAt.getTime() > now + 24 * 3600_000) throw invalid(`body.recipients.${i}.enteredAt: more than a day in the future`)
  }
  const seq = await getSequence(deps, sequenceId)
  const first = seq.steps[0]!
  await markQueuedExits(deps)
  const ids = [...seen]
  const skipped: EnrollResult['skipped']['recipients'] = []
  const unchanged: string[] = []
  const mirror: MirrorRow[] = []
  const entriesWritten: Array<{ recipientId: string; at: number }> = []
  let enrolled = 0
  let reentered = 0
  await deps.meta.db.transaction(async (tx) => {
    // Conversions up to the cursor are looked up here for the entries written; later ones reach
    // them through the next pass (the lock keeps a pass from running between the two).
    const goalCursor = exitsOnGoal(seq) ? await lockGoalCursor(tx, 'share') : null
    // One after the other: a transaction is one connection, and node-postgres deprecates queries
    // issued while another runs on it (they only queued anyway).
    const erased = await tx.select({ id: recipientErasures.recipientId }).from(recipientErasures).where(anyOf(recipientErasures.recipientId, ids))
    const suppressed = await tx
      .select({ id: suppressions.recipientId, reason: suppressions.reason })
      .from(suppressions)
      .where(and(anyOf(suppressions.recipientId, ids), eq(suppressions.scope, GLOBAL_SCOPE)))
    const existing = await existingEntries(tx, sequenceId, ids)
    const erasedSet = new Set(erased.map((r) => r.id))
    const suppressedBy = new Map(suppressed.map((r) => [r.id, r.reason]))
    const existingBy = new Map(existing.map((r) => [r.recipientId, r]))
    const rows: Array<{ recipientId: string; enteredAt: string; variant: string | null; segments: string | null; attributes: string | null; goalAt: string | null }> = []
    for (const r of recipients) {
      if (erasedSet.has(r.id)) skipped.push({ id: r.id, reason: 'erased' })
      else if (suppressedBy.has(r.id)) skipped.push({ id: r.id, reason: suppressionReason(suppressedBy.get(r.id)!) })
      else {
        const before = existingBy.get(r.id)
        if (before && !opts.reenter) {
          unchanged.push(r.id)
          mirror.push(before)
          continue
        }
        if (before) {
          reentered++
          // The entry replaced ends here in the funnel's history, unless it had ended already.
          mirror.push(before.status === 'active' ? { ...before, status: 'exited', exitReason: 'reentered', exitStepId: before.nextStepId, exitedAt: new Date(now) } : before)
        } else enrolled++
        const enteredAt = r.enteredAt ?? new Date(now)
        rows.push({
          recipientId: r.id,
          enteredAt: enteredAt.toISOString(),
          variant: r.variant ?? null,
          segments: r.segments ? JSON.stringify(r.segments) : null,
          attributes: r.attributes ? JSON.stringify(r.attributes) : null,
          goalAt: null,
        })
        mirror.push({ recipientId: r.id, enteredAt, status: 'active' })
      }
    }
    if (rows.length === 0) return
    entriesWritten.push(...rows.map((r) => ({ recipientId: r.recipientId, at: Date.parse(r.enteredAt) })))
    if (seq.goal && goalCursor !== null && goalCursor.seq >= 0) {
      const goal = seq.goal
      const firstIn = new Map<string, number>()
      const entered = new Map(rows.map((r) => [r.recipientId, Date.parse(r.enteredAt)]))
      // Only the recipients known to have converted are looked up in ClickHouse (most have not).
      const ids = rows.map((r) => r.recipientId)
      const buyers = (await tx.select({ id: sequenceGoalRecipients.recipientId }).from(sequenceGoalRecipients).where(anyOf(sequenceGoalRecipients.recipientId, ids))).map((r) => r.id)
      for (const c of buyers.length ? await storedConversions(deps, NOTHING_APPLIED, goalCursor, { ids: buyers }) : []) {
        const e = entered.get(c.id)!
        if (c.kind !== goal.type || c.at < e || c.at > e + goal.withinMs) continue
        firstIn.set(c.id, Math.min(c.at, firstIn.get(c.id) ?? Infinity))
      }
      for (const r of rows) {
        const at = firstIn.get(r.recipientId)
        if (at !== undefined) r.goalAt = new Date(at).toISOString()
      }
    }
    const col = <K extends keyof (typeof rows)[number]>(k: K) => sql.param(rows.map((r) => r[k] ?? null))
    // One statement whatever the count: arrays as parameters (unnest), not a parameter per value.
    await tx.execute(sql`
      INSERT INTO sequence_enrollments (sequence_id, recipient_id, entered_at, status, reached_ms, next_step_id, due_at, sent, variant, segments, attributes, goal_at)
      SELECT ${sequenceId}, u.id, u.entered, 'active', -1, ${first.id}, u.entered + ${first.offsetMs} * interval '1 millisecond', '{}'::jsonb,
             u.variant, CASE WHEN u.segments IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(u.segments::jsonb)) END, u.attributes::jsonb, u.goal
      FROM unnest(${col('recipientId')}::text[], ${col('enteredAt')}::timestamptz[], ${col('variant')}::text[], ${col('segments')}::text[], ${col('attributes')}::text[],
                  ${col('goalAt')}::timestamptz[])
        AS u(id, entered, variant, segments, attributes, goal)
      ON CONFLICT (sequence_id, recipient_id) DO ${
        opts.reenter
          ? sql`UPDATE SET entered_at = excluded.entered_at, status = 'active', reached_ms = -1, next_step_id = excluded.next_step_id, due_at = excluded.due_at,
                exit_reason = NULL, exit_step_id = NULL, exited_at = NULL, sent = '{}'::jsonb, variant = excluded.variant, segments = excluded.segments, attributes = excluded.attributes,
                goal_at = excluded.goal_at`
          : sql`NOTHING`
      }`)
  })
  await mirrorEnrollments(deps, sequenceId, mirror)
  // The funnel's conversions of the entries written (one dated in the past may have some already),
  // under the goal as it is once they are in ClickHouse.
  if (seq.goal && entriesWritten.length > 0) {
    const since = entriesWritten.reduce((a, r) => Math.min(a, r.at), Infinity)
    await enrolledConversions(deps.events, () => currentGoal(deps, sequenceId), entriesWritten.map((r) => r.recipientId), since)
  }
  return { enrolled, reentered, unchanged, skipped: { count: skipped.length, recipients: skipped } }
}

export interface EnrollmentView {
  recipientId: string
  enteredAt: string
  status: EnrollmentStatus
  nextStepId: string | null
  dueAt: string | null
  sent: Record<string, string>
  exit: { reason: string; stepId: string | null; at: string } | null
}

function toView(r: typeof sequenceEnrollments.$inferSelect): EnrollmentView {
  return {
    recipientId: r.recipientId,
    enteredAt: r.enteredAt.toISOString(),
    status: r.status,
    nextStepId: r.nextStepId,
    dueAt: r.dueAt?.toISOString() ?? null,
    sent: r.sent,
    exit: r.status === 'exited' ? { reason: r.exitReason ?? '', stepId: r.exitStepId, at: (r.exitedAt ?? r.enteredAt).toISOString() } : null,
  }
}

/** One sequence a recipient is in (active, completed or exited), as the person's profile shows it. */
export interface RecipientSequence {
  sequenceId: string
  name: string
  status: EnrollmentStatus
  enteredAt: string
  /** The last step sent to this entry, null before the first. */
  lastStep: { stepId: string; sentAt: string } | null
  /** The step due next, while active. */
  next: { stepId: string; dueAt: string } | null
  exit: EnrollmentView['exit']
}

/** The sequences a recipient is in, by entry time (most recent first). One index lookup. */
export async function recipientSequences(deps: MetaDeps, recipientId: string): Promise<RecipientSequence[]> {
  await markQueuedExits(deps)
  const rows = await deps.meta.db
    .select({ e: sequenceEnrollments, name: sequences.name })
    .from(sequenceEnrollments)
    .innerJoin(sequences, eq(sequences.id, sequenceEnrollments.sequenceId))
    .where(eq(sequenceEnrollments.recipientId, recipientId))
    .orderBy(desc(sequenceEnrollments.enteredAt), asc(sequenceEnrollments.sequenceId))
  return rows.map(({ e, name }) => {
    const v = toView(e)
    // ISO strings of one format: the largest is the latest send.
    const last = Object.entries(v.sent).reduce<[string, string] | null>((m, x) => (!m || x[1] > m[1] ? x : m), null)
    return {
      sequenceId: e.sequenceId,
      name,
      status: v.status,
      enteredAt: v.enteredAt,
      lastStep: last ? { stepId: last[0], sentAt: last[1] } : null,
      next: v.status === 'active' && v.nextStepId && v.dueAt ? { stepId: v.nextStepId, dueAt: v.dueAt } : null,
      exit: v.exit,
    }
  })
}

export async function getEnrollment(deps: MetaDeps, sequenceId: string, recipientId: string): Promise<EnrollmentView> {
  await getSequence(deps, sequenceId)
  await markQueuedExits(deps)
  const [row] = await deps.meta.db
    .select()
    .from(sequenceEnrollments)
    .where(and(eq(sequenceEnrollments.sequenceId, sequenceId), eq(sequenceEnrollments.recipientId, recipientId)))
  if (!row) throw notFound(`recipient ${recipientId} is not enrolled in sequence ${sequenceId}`)
  return toView(row)
}

/** Takes a recipient out: they exit with reason `removed` and are never due again (unless re-entered). */
export async function removeEnrollment(deps: Deps, sequenceId: string, recipientId: string): Promise<EnrollmentView> {
  await getSequence(deps, sequenceId)
  await markQueuedExits(deps)
  const e = sequenceEnrollments
  const where = and(eq(e.sequenceId, sequenceId), eq(e.recipientId, recipientId))
  const [changed] = await deps.meta.db
    .update(e)
    .set({ status: 'exited', exitReason: 'removed', exitStepId: sql`${e.nextStepId}`, exitedAt: new Date(deps.clock()), dueAt: null })
    .where(and(where, eq(e.status, 'active')))
    .returning()
  const [row] = changed ? [changed] : await deps.meta.db.select().from(e).where(where)
  if (!row) throw notFound(`recipient ${recipientId} is not enrolled in sequence ${sequenceId}`)
  await mirrorEnrollments(deps, sequenceId, [row])
  return toView(row)
}

export interface DueItem {
  recipientId: string
  stepId: string
  campaignId: string
  dueAt: string
  enteredAt: string
  variant: string | null
  segments: string[]
  attributes: Record<string, string>
}

export type DueSkipReason = 'converted' | 'unsubscribed' | 'suppressed' | 'erased'

export interface DuePage {
  sequenceId: string
  until: string
  /** The due items (DueItem) as a JSON array text: written by the database, passed through as is. */
  dueJson: string
  /** Recipients found due but leaving instead, by reason: they are marked exited (after the answer) and never due again. */
  skipped: Record<DueSkipReason, number>
  next: string | null
}

function encodeDueCursor(dueAtMs: number, recipientId: string): string {
  return Buffer.from(JSON.stringify([dueAtMs, recipientId])).toString('base64url')
}

function decodeDueCursor(cursor: string): { at: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return { at: v[0] as number, id: v[1] }
  } catch {
    /* reported below */
  }
  throw invalid('query.cursor: not a cursor returned by this endpoint')
}

/** A page of `due`: the rows read, the items of those staying and the exits found among them. */
interface DuePageRows {
  /** The items of the rows that stay as JSON text, comma-separated, without the array's brackets. */
  items: string
  /** Rows in the page, exits included: up to the want-th staying. */
  count: number
  /** Whether more rows follow the page. */
  more: boolean
  /** The page's last row read: due time (epoch ms) and recipient, for the cursor. */
  last: [number, string] | null
  /** The rows leaving instead, in due order: [recipient, entered at ms, step due, reason, at ms, due at ms]. */
  exits: Array<[string, number, string | null, DueSkipReason, number, number]>
}

/**
 * A page of active enrolments due by `until` after the cursor, in due order: one range of the
 * partial index sequence_enrollments_due. One statement gives the answer's items as JSON text:
 * each row's item is stored with it (due_item_head and due_item_tail, generated columns of
 * migration 0370: formatting two times and four JSON strings per row per call cost ~50 ms of CPU
 * per 10,000 rows in PGlite), joined here with its step's campaign spliced in (the steps may have
 * changed since the row was written); the process neither parses nor re-serializes 10,000
 * objects. The exits are decided in the same statement, from what is true now (the page's
 * erasures, suppressions in the global or its step's scope whose reason the sequence exits on,
 * goal conversions up to `now`), and their items left out of the text: the process never cuts it.
 * An entry with several suppressions leaves on the earliest whose reason is an exit.
 */
async function dueCandidates(deps: MetaDeps, seq: Sequence, until: Date, after: { at: number; id: string } | null, want: number, now: number): Promise<DuePageRows> {
  const ms = (col: string) => sql.raw(`(extract(epoch FROM ${col}) * 1000)::bigint`)
  const campaignOf = JSON.stringify(Object.fromEntries(seq.steps.map((s) => [s.id, s.campaignId])))
  const range = sql`sequence_id = ${seq.id} AND status = 'active' AND due_at <= ${until.toISOString()}::timestamptz
    ${after ? sql`AND (due_at, recipient_id) > (${new Date(after.at).toISOString()}::timestamptz, ${after.id})` : sql``}`
  const onGoal = seq.goal !== null && seq.exitOn.includes('converted')
  const reasonOf = sql.raw(`CASE WHEN s.reason = 'unsubscribe' THEN 'unsubscribed' ELSE 'suppressed' END`)
  // The items straight from the index range, aggregated in its order (no sort, and the texts not
  // copied through the CTE: ~12 ms less per 10,000 rows), the exits' left out by a hashed set; the
  // CTEs, narrow, give the rest. One statement, one snapshot: both read the same rows.
  // Up to `n` rows read, a few more than `want`: the page ends at the want-th row staying (most
  // pages then need one statement, not one more per round of exits found).
  const n = want + Math.ceil(want / 16)
  const res: unknown = await deps.meta.db.execute(sql`
    WITH page AS MATERIALIZED (
      SELECT recipient_id, due_at, next_step_id, entered_at, goal_at, (row_number() OVER (ORDER BY due_at, recipient_id) - 1)::int AS i
      FROM (SELECT recipient_id, due_at, next_step_id, entered_at, goal_at FROM sequence_enrollments WHERE ${range} ORDER BY due_at, recipient_id LIMIT ${n + 1}) AS p
    ),
    sup AS (
      SELECT DISTINCT ON (page.i) page.i, ${reasonOf} AS reason, floor(extract(epoch FROM s.at) * 1000)::bigint AS at
      FROM page JOIN suppressions s ON s.recipient_id = page.recipient_id
      WHERE page.i < ${n} AND (s.scope = ${GLOBAL_SCOPE} OR s.scope = ${campaignOf}::jsonb ->> page.next_step_id) AND ${reasonOf} = ANY(${sql.param(seq.exitOn)}::text[])
      ORDER BY page.i, s.at, s.scope
    ),
    found AS MATERIALIZED (
      SELECT page.i, page.recipient_id, ${ms('page.entered_at')} AS entered, page.next_step_id, ${ms('page.due_at')} AS due,
        CASE WHEN x.recipient_id IS NOT NULL THEN 'erased' WHEN sup.i IS NOT NULL THEN sup.reason ELSE 'converted' END AS reason,
        CASE WHEN x.recipient_id IS NOT NULL THEN ${now}::bigint WHEN sup.i IS NOT NULL THEN sup.at ELSE ${ms('page.goal_at')} END AS at
      FROM page LEFT JOIN recipient_erasures x ON x.recipient_id = page.recipient_id LEFT JOIN sup ON sup.i = page.i
      WHERE page.i < ${n} AND (x.recipient_id IS NOT NULL OR sup.i IS NOT NULL ${onGoal ? sql`OR ${ms('page.goal_at')} <= ${now}::bigint` : sql``})
    ),
    -- The page's last row: the want-th staying, or the last read (without exits: the want-th).
    cut AS MATERIALIZED (
      SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM found) THEN (SELECT max(i) FROM page WHERE i < ${want}) ELSE coalesce(
        (SELECT k.i FROM (SELECT page.i, count(*) FILTER (WHERE found.i IS NULL) OVER (ORDER BY page.i) AS kept FROM page LEFT JOIN found ON found.i = page.i WHERE page.i < ${n}) AS k
         WHERE k.kept = ${want} ORDER BY k.i LIMIT 1),
        (SELECT max(i) FROM page WHERE i < ${n})) END AS e
    ),
    ex AS MATERIALIZED (SELECT * FROM found WHERE i <= (SELECT e FROM cut))
    SELECT
      (SELECT coalesce(string_agg(concat(due_item_head, ',"campaignId":', coalesce(to_json(${campaignOf}::jsonb ->> next_step_id)::text, 'null'), due_item_tail), ',' ORDER BY due_at, recipient_id)
                         FILTER (WHERE recipient_id NOT IN (SELECT recipient_id FROM ex)), '')
       FROM (SELECT due_at, recipient_id, next_step_id, due_item_head, due_item_tail FROM sequence_enrollments WHERE ${range} ORDER BY due_at, recipient_id
             LIMIT (SELECT coalesce(e + 1, 0) FROM cut)) AS q) AS items,
      json_build_object(
        'count', (SELECT coalesce(e + 1, 0) FROM cut),
        'more', (SELECT count(*) > (SELECT coalesce(e + 1, 0) FROM cut) FROM page),
        'last', (SELECT json_build_array(${ms('due_at')}, recipient_id) FROM page WHERE i = (SELECT e FROM cut)),
        'exits', (SELECT coalesce(json_agg(json_build_array(recipient_id, entered, next_step_id, reason, at, due) ORDER BY i), '[]') FROM ex)
      )::text AS meta`)
  const row = (res as { rows: Array<{ items: string; meta: string }> }).rows[0]!
  return { items: String(row.items), ...(JSON.parse(String(row.meta)) as Omit<DuePageRows, 'items'>) }
}

/**
 * Who is due for which step by `until`, in due order (due time, then recipient id), `limit` a
 * page. Before anyone is returned, each candidate is checked against the sequence's exits: a
 * global or step-campaign suppression (unsubscribed, suppressed), an erasure, a conversion of the
 * goal's type within the goal's window after entry. Those found are counted under `skipped` and
 * marked exited (with the step they were due for and the time of the fact) after the answer (see
 * queueExits); no call returns them, marked or not. The journal is flushed first: a purchase
 * received a moment ago counts.
 */
export async function dueRecipients(deps: Deps & Pick<AppDeps, 'writer' | 'sequence'>, sequenceId: string, q: { until: Date; limit: number; cursor?: string | undefined }): Promise<DuePage> {
  const seq = await getSequence(deps, sequenceId)
  const cursor = q.cursor ? decodeDueCursor(q.cursor) : null
  const skipped: Record<DueSkipReason, number> = { converted: 0, unsubscribed: 0, suppressed: 0, erased: 0 }
  // The page's items as JSON text, in pieces, and how many.
  const chunks: string[] = []
  let dueCount = 0
  const goal = seq.exitOn.includes('converted') ? seq.goal : null
  if (goal) {
    await deps.writer.flush()
    await applyStoredConversions(deps)
  }
  // Exits found earlier and not yet marked that this call would read again are marked first, so
  // none is counted twice; a walk reading on after its cursor never waits for its earlier pages' marks.
  if (queuedExits.get(deps.meta)?.some((b) => b.sequenceId === sequenceId && b.rows.some((r) => !cursor || r.dueAt >= cursor.at))) await markQueuedExits(deps)
  const now = deps.clock()
  let after = cursor
  let last: { at: number; id: string } | null = null
  let exhausted = false
  const exiting: ExitRow[] = []
  while (dueCount < q.limit) {
    const want = q.limit - dueCount
    const rows = await dueCandidates(deps, seq, q.until, after, want, now)
    if (!rows.more) exhausted = true
    if (rows.count === 0) break
    for (const [recipientId, enteredAt, nextStepId, reason, at, dueAt] of rows.exits) {
      exiting.push({ recipientId, enteredAt: new Date(enteredAt), nextStepId, reason, at: new Date(at), dueAt })
      skipped[reason]++
    }
    if (rows.items) chunks.push(rows.items)
    dueCount += rows.count - rows.exits.length
    last = { at: rows.last![0], id: rows.last![1] }
    after = last
    if (exhausted) break
  }
  if (exiting.length) queueExits(deps, sequenceId, exiting)
  return {
    sequenceId,
    until: q.until.toISOString(),
    dueJson: `[${chunks.join(',')}]`,
    skipped,
    next: !exhausted && last ? encodeDueCursor(last.at, last.id) : null,
  }
}

interface ExitRow {
  recipientId: string
  /** The entry's start when it was found leaving: a re-entry since then is another entry, left as is. */
  enteredAt: Date
  nextStepId: string | null
  reason: DueSkipReason
  at: Date
  /** Its due time (epoch ms) when found: where a page reads it. */
  dueAt: number
}

/** Exits found by `due` and not yet marked, per metadata store, with their mirror rows' version. */
const queuedExits = new WeakMap<object, Array<{ sequenceId: string; rows: ExitRow[]; version: number }>>()
/** The marking running (or last run) per metadata store in this process: writers of entries wait for it. */
const exitMarks = serialQueue<object>()

/**
 * `due` answers first and marks its exits after: the marks are a cache of what it decides from
 * the truth (erasures, suppressions, conversions), which every call reads again, so an entry found
 * leaving and not yet marked is never in an answer either way; a call that would read it again
 * marks first (see dueRecipients), so it is counted once. Marked with the mirror's catch-up (1 s
 * after `due` was last called, at most 5 s after the first queued): the ~30-40 ms of CPU per 10,000
 * (~350 exits) are paid once for the pages walked back to back, not by each page. Everything that
 * writes entries or reads their state (enrolment, sends, removal, a change or deletion of the
 * sequence, the funnel, the timeline, the dashboard, a process stopping) marks what is queued
 * first, so it sees the exits as if marked in the call. A crash loses only the marks: the next walk
 * finds those entries again.
 */
function queueExits(deps: Deps, sequenceId: string, rows: ExitRow[]): void {
  const list = queuedExits.get(deps.meta) ?? []
  list.push({ sequenceId, rows, version: deps.clock() })
  queuedExits.set(deps.meta, list)
  scheduleMirrorCatchUp(deps.meta, deps)
}

/**
 * Marks the exits `due` queued in this process (see queueExits), one statement per page found,
 * which also queues their ClickHouse mirror rows in sequence_mirror_pending. Only an entry still
 * active and the same entry (its start unchanged) changes: a send, removal or re-entry since wins.
 * A failure drops the marks (the next walk finds those exits again) rather than fail the caller.
 */
export function markQueuedExits(deps: Pick<AppDeps, 'meta'>): Promise<void> {
  return exitMarks.run(deps.meta, async () => {
    const batches = [...(queuedExits.get(deps.meta) ?? [])]
    // Each batch leaves the queue once marked: until then a `due` call that would read it waits here.
    for (const b of batches) {
      await markExits(deps, b.sequenceId, b.rows, b.version).catch(() => undefined)
      queuedExits.set(deps.meta, (queuedExits.get(deps.meta) ?? []).filter((x) => x !== b))
    }
  })
}

/**
 * Marks exits in one statement. Found by key: marking them by the row version the page read (ctid)
 * measured the same (bench/sequences-exits.ts), the index inserts of the new versions being most of
 * the cost.
 */
async function markExits(deps: Pick<AppDeps, 'meta'>, sequenceId: string, rows: ExitRow[], version: number): Promise<void> {
  await deps.meta.db.execute(sql`
    WITH exited AS (
      UPDATE sequence_enrollments e SET status = 'exited', exit_reason = x.reason, exit_step_id = e.next_step_id, exited_at = x.at, due_at = NULL
      FROM unnest(${sql.param(rows.map((r) => r.recipientId))}::text[], ${sql.param(rows.map((r) => r.enteredAt.toISOString()))}::timestamptz[],
                  ${sql.param(rows.map((r) => r.reason))}::text[], ${sql.param(rows.map((r) => r.at.toISOString()))}::timestamptz[]) AS x(id, entered, reason, at)
      WHERE e.sequence_id = ${sequenceId} AND e.recipient_id = x.id AND e.status = 'active'
        AND (extract(epoch FROM e.entered_at) * 1000)::bigint = (extract(epoch FROM x.entered) * 1000)::bigint
      RETURNING e.sequence_id, e.recipient_id, e.entered_at, e.exit_reason, e.exit_step_id, e.exited_at
    )
    INSERT INTO sequence_mirror_pending (sequence_id, recipient_id, entered_at, status, exit_reason, exit_step_id, exited_at, version)
    SELECT sequence_id, recipient_id, entered_at, 'exited', exit_reason, exit_step_id, exited_at, ${version}::bigint FROM exited`)
}

/** Pending mirror rows written per ClickHouse insert. */
const MIRROR_PAGE = 10_000

/** The catch-up running (or last run) per metadata store in this process: calls queue behind it. */
const mirrorRuns = serialQueue<object>()

/**
 * Writes the exits queued in sequence_mirror_pending to ClickHouse's sequence_enrollments, oldest
 * first, and deletes them once written. Everything that reads the mirror (funnel, timeline) awaits
 * this first, so it never reads a state older than the metadata store's. Calls in this process run
 * one after the other, and each one after the call began reads every row committed before it. A
 * failure leaves the rows pending (the next call writes them; a row written twice is the same row
 * of the same version). Another process draining the same rows at once writes them twice, with the
 * same deduplication token and version: the same row.
 */
export async function catchUpSequenceMirror(deps: Pick<AppDeps, 'meta' | 'events'>): Promise<void> {
  await markQueuedExits(deps)
  return mirrorRuns.run(deps.meta, () => drainMirror(deps))
}

/**
 * The catch-up after the answer, 1 s after `due` last queued exits (at most 5 s after the first): a
 * sender walking the pages back to back pays for no ClickHouse insert during the walk, and one
 * insert writes the exits of several pages (ClickHouse prefers fewer, larger inserts).
 */
const scheduleMirrorCatchUp = quietTimer<object, Pick<AppDeps, 'meta' | 'events'>>((deps) => catchUpSequenceMirror(deps), 1_000, 5_000)

/**
 * A process stopping: the exits `due` queued are marked (metadata only: their mirror rows stay
 * queued in the store), no mirror catch-up starts any more, and the one running ends before the stores close.
 */
export async function stopSequenceMirror(meta: AppDeps['meta']): Promise<void> {
  scheduleMirrorCatchUp.cancel(meta)
  await markQueuedExits({ meta })
  await mirrorRuns.idle(meta)
}

async function drainMirror(deps: Pick<AppDeps, 'meta' | 'events'>): Promise<void> {
  const p = sequenceMirrorPending
  for (;;) {
    const rows = await deps.meta.db.select().from(p).orderBy(asc(p.id)).limit(MIRROR_PAGE)
    if (rows.length === 0) return
    await insertRows(
      deps.events,
      'sequence_enrollments',
      ['sequence_id', 'recipient_id', 'entered_at', 'status', 'exit_reason', 'exit_step_id', 'exited_at', 'version'],
      rows.map((r) => [r.sequenceId, r.recipientId, chDateTime(r.enteredAt.getTime()), r.status, r.exitReason ?? '', r.exitStepId ?? '', chDateTime(r.exitedAt?.getTime() ?? 0), r.version]),
      { insert_deduplication_token: `seq-mirror:${rows[0]!.id}-${rows.at(-1)!.id}-${rows.length}`, async_insert: 0 },
    )
    // An erasure or a sequence's deletion that ran its ClickHouse delete between this read and
    // this insert would see its rows written again: delete them again (one committed after this
    // check deletes after the insert itself).
    const recipients = [...new Set(rows.map((r) => r.recipientId))]
    const seqIds = [...new Set(rows.map((r) => r.sequenceId))]
    const erased = await deps.meta.db.select({ id: recipientErasures.recipientId }).from(recipientErasures).where(anyOf(recipientErasures.recipientId, recipients))
    const alive = new Set((await deps.meta.db.select({ id: sequences.id }).from(sequences).where(anyOf(sequences.id, seqIds))).map((r) => r.id))
    const { db } = deps.events
    for (const r of erased) {
      const days = await entryDaysOf(deps.events, r.id)
      await deps.events.client.command({ query: `ALTER TABLE ${db}.sequence_enrollments DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: { r: r.id } })
      // Their funnel days were marked by the insert above: a computation since may have read the rows.
      await markEntryDays(deps.events, days)
    }
    for (const id of seqIds.filter((x) => !alive.has(x))) {
      await deps.events.client.command({ query: `ALTER TABLE ${db}.sequence_enrollments DELETE WHERE sequence_id = {s:String} SETTINGS mutations_sync = 2`, query_params: { s: id } })
    }
    await deps.meta.db.delete(p).where(sql`${p.id} = ANY(${sql.param(rows.map((r) => r.id))}::bigint[])`)
    if (rows.length < MIRROR_PAGE) return
  }
}

export interface StepSendReport {
  id: string
  stepId: string
  /** Recipients for whom this call marked the step sent. */
  marked: number
  /** The step had been marked already (a repeated send changes nothing). */
  alreadySent: string[]
  notEnrolled: string[]
  /** Enrolled but exited, completed, or past this step without it: recorded as a send, not as the step. */
  notActive: string[]
}

/**
 * The step of a send with `sequence: {id, stepId}`, checked before anything is recorded: the
 * sequence and step exist and the step is the campaign's.
 */
export async function checkSequenceStep(deps: MetaDeps, campaignId: string, ref: { id: string; stepId: string }): Promise<{ sequence: Sequence; step: SequenceStep }> {
  const [row] = await deps.meta.db.select().from(sequences).where(eq(sequences.id, ref.id)).limit(1)
  if (!row) throw invalid(`body.sequence.id: sequence ${ref.id} does not exist`)
  const step = row.steps.find((s) => s.id === ref.stepId)
  if (!step) throw invalid(`body.sequence.stepId: sequence ${ref.id} has no step ${ref.stepId} (steps: ${row.steps.map((s) => s.id).join(', ')})`)
  if (step.campaignId !== campaignId) throw invalid(`body.sequence.stepId: step ${step.id} of sequence ${ref.id} is campaign ${step.campaignId}, not ${campaignId}`)
  return { sequence: row, step }
}

/**
 * Marks a step sent for the recipients of a send, once: an active enrolment not yet past the
 * step moves past it (its next step and due time follow, or it completes); anyone else is
 * reported and left alone. The step sends go to ClickHouse for the funnel, including those marked
 * before (a repeated call rewrites the same rows, so a failure after the metadata write heals).
 */
export async function markStepSent(deps: Deps, checked: { sequence: Sequence; step: SequenceStep }, recipientIds: string[], sentAt: Date): Promise<StepSendReport> {
  const { sequence, step } = checked
  const e = sequenceEnrollments
  const report: StepSendReport = { id: sequence.id, stepId: step.id, marked: 0, alreadySent: [], notEnrolled: [], notActive: [] }
  if (recipientIds.length === 0) return report
  await markQueuedExits(deps)
  const next = nextStep(sequence.steps, step.offsetMs)
  const marked = await deps.meta.db
    .update(e)
    .set({
      reachedMs: step.offsetMs,
      sent: sql`${e.sent} || ${JSON.stringify({ [step.id]: sentAt.toISOString() })}::jsonb`,
      nextStepId: next?.id ?? null,
      dueAt: next ? sql`${e.enteredAt} + ${next.offsetMs} * interval '1 millisecond'` : null,
      status: next ? 'active' : 'completed',
    })
    .where(and(eq(e.sequenceId, sequence.id), anyOf(e.recipientId, recipientIds), eq(e.status, 'active'), sql`${e.reachedMs} < ${step.offsetMs}`, sql`NOT (${e.sent} ? ${step.id})`))
    .returning({ recipientId: e.recipientId, enteredAt: e.enteredAt, status: e.status })
  report.marked = marked.length
  const markedIds = new Set(marked.map((m) => m.recipientId))
  const rest = recipientIds.filter((id) => !markedIds.has(id))
  const others = rest.length ? await deps.meta.db.select({ recipientId: e.recipientId, enteredAt: e.enteredAt, sent: e.sent }).from(e).where(and(eq(e.sequenceId, sequence.id), anyOf(e.recipientId, rest))) : []
  const otherBy = new Map(others.map((o) => [o.recipientId, o]))
  const sends: Array<{ recipientId: string; enteredAt: Date; sentAt: string }> = marked.map((m) => ({ recipientId: m.recipientId, enteredAt: m.enteredAt, sentAt: sentAt.toISOString() }))
  for (const id of rest) {
    const o = otherBy.get(id)
    if (!o) report.notEnrolled.push(id)
    else if (o.sent[step.id]) {
      report.alreadySent.push(id)
      sends.push({ recipientId: id, enteredAt: o.enteredAt, sentAt: o.sent[step.id]! })
    } else report.notActive.push(id)
  }
  if (sends.length) {
    await insertRows(
      deps.events,
      'sequence_sends',
      ['sequence_id', 'step_id', 'campaign_id', 'recipient_id', 'entered_at', 'sent_at'],
      sends.map((x) => [sequence.id, step.id, step.campaignId, x.recipientId, chDateTime(x.enteredAt.getTime()), chDateTime(Date.parse(x.sentAt))]),
      { insert_deduplication_token: `seq-send:${randomUUID()}`, async_insert: 0 },
    )
    // Their rows of the funnel's facts (migration 3300), from the events stored so far: an open or
    // click stored before this send was recorded is counted; one stored after it is applied by the
    // funnel's catch-up, which reads the sends after this insert.
    await recomputeSendFacts(deps.events, { campaigns: [step.campaignId], recipients: sends.map((x) => x.recipientId), sequenceId: sequence.id, stepId: step.id })
    // Converted entries carry their sends in the funnel's conversions (migration 3800).
    if (sequence.goal) await sentConversions(deps.events, () => currentGoal(deps, sequence.id), sends.map((x) => x.recipientId))
  }
  const completed = marked.filter((m) => m.status === 'completed')
  await mirrorEnrollments(deps, sequence.id, completed.map((m) => ({ recipientId: m.recipientId, enteredAt: m.enteredAt, status: 'completed' as const })))
  return report
}

/**
 * Erasure: the recipient's enrolments and sequence history are deleted, and their id is kept in
 * recipient_erasures so no sequence enrols them again.
 */
export async function eraseFromSequences(deps: Pick<AppDeps, 'meta' | 'events' | 'clock'>, recipientId: string): Promise<number> {
  const removed = await deps.meta.db.transaction(async (tx) => {
    await tx.insert(recipientErasures).values({ recipientId, at: new Date(deps.clock()) }).onConflictDoNothing()
    await tx.delete(sequenceGoalRecipients).where(eq(sequenceGoalRecipients.recipientId, recipientId))
    await tx.delete(sequenceMirrorPending).where(eq(sequenceMirrorPending.recipientId, recipientId))
    return tx.delete(sequenceEnrollments).where(eq(sequenceEnrollments.recipientId, recipientId)).returning({ s: sequenceEnrollments.sequenceId })
  })
  const { db } = deps.events
  // The funnel's days of their entries (migration 3900), marked once the rows are gone: no view sees a delete.
  const days = await entryDaysOf(deps.events, recipientId)
  for (const table of ['sequence_enrollments', 'sequence_sends', 'sequence_send_facts', 'sequence_conversions']) {
    const del = () => deps.events.client.command({ query: `ALTER TABLE ${db}.${table} DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: { r: recipientId } })
    // The conversions once every computation running has ended: later ones read the entries deleted above.
    await (table === 'sequence_conversions' ? serially(del) : del())
  }
  await markEntryDays(deps.events, days)
  return removed.length
}
