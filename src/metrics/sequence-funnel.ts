import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import { sequences, type SequenceGoal, type SequenceStep } from '../store/schema.js'
import { catchUpConversions, goalKey } from '../store/sequence-conversions.js'
import { applyStoredEngagement } from '../store/sequence-facts.js'
import { wilson, type Interval } from './statistics.js'
import { num, type Traffic } from './sql.js'

export type Cohort = 'day' | 'week' | 'month'

export interface FunnelQuery {
  traffic: Traffic
  cohort: Cohort
  /** Entries at or after this instant (epoch ms). */
  from?: number | undefined
  /** Entries before this instant (epoch ms). */
  to?: number | undefined
}

export interface Rate {
  value: number
  numerator: number
  denominator: number
  interval: Interval
}

export interface FunnelStep {
  stepId: string
  campaignId: string
  offset: string
  /** Entries whose time for this step has come (entered + offset ≤ now) and who had not left at an earlier step. */
  due: number
  sent: number
  /** Left when this step was next, by reason (the step was not sent to them). */
  skipped: Record<string, number>
  /** Sum of skipped. */
  exited: number
  /** Due, neither sent nor skipped yet. */
  pending: number
  opened: number
  clicked: number
  unsubscribed: number
  /** Converted by the goal after this step was sent (within the goal's window after entry). */
  converted: number
  rates: { open: Rate; click: Rate; unsubscribe: Rate; conversion: Rate; continuation: Rate | null }
  /** sent − the next step's sent; null on the last step. */
  dropOff: number | null
  medianSendToFirstClickMs: number | null
  medianEntryToConversionMs: number | null
}

export interface FunnelSection {
  entered: number
  active: number
  completed: number
  exited: number
  /** Entries converted by the goal within its window (whatever step they were at). */
  converted: number
  conversion: Rate
  medianEntryToConversionMs: number | null
  steps: FunnelStep[]
}

export interface Funnel extends FunnelSection {
  sequenceId: string
  traffic: Traffic
  cohortBy: Cohort
  goal: { type: string; within: string } | null
  cohorts: Array<FunnelSection & { cohort: string }>
}

const COHORT_FN: Record<Cohort, string> = {
  day: 'toStartOfDay(entered_at)',
  week: 'toMonday(entered_at)',
  month: 'toStartOfMonth(entered_at)',
}

const rate = (n: number, d: number): Rate => ({ value: d > 0 ? n / d : 0, numerator: n, denominator: d, interval: wilson(n, d) })

/**
 * The funnel of a sequence, per step and per cohort of entry date, from ClickHouse: the entries
 * (sequence_enrollments: status, exits by step and reason, how many reached each step's time), the
 * step sends with their recipients' opens, clicks and unsubscribes of the step's campaign
 * (sequence_send_facts), and the converted entries with their goal conversions and step sends
 * (sequence_conversions); the two derived tables are brought up to date with the events stored since
 * the last read first.
 * Machine opens and clicks count only with traffic=machine|all.
 */
export async function sequenceFunnel(
  deps: Pick<AppDeps, 'events' | 'meta' | 'sequence' | 'clock'>,
  seq: { id: string; steps: SequenceStep[]; goal: SequenceGoal | null },
  q: FunnelQuery,
): Promise<Funnel> {
  const db = deps.events.db
  const now = deps.clock()
  // A Date through the joins and the grouping, a string only in the result: the joins copy every
  // left column per row (a few per cent of the steps query with a string here, bench/README.md).
  const cohortExpr = `toDate(${COHORT_FN[q.cohort]})`
  const entryWindow = `${q.from !== undefined ? ` AND entered_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')` : ''}${q.to !== undefined ? ` AND entered_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')` : ''}`
  const params: Record<string, unknown> = {
    s: seq.id,
    thresholds: seq.steps.map((s) => now - s.offsetMs),
    campaigns: seq.steps.map((s) => s.campaignId),
    g: seq.goal ? goalKey(seq.goal) : '',
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
  }
  const t = q.traffic
  const hasGoal = seq.goal !== null
  // The opens, clicks and unsubscribes stored since the last read, onto the step sends' rows: every
  // sequence's step campaigns (the cursor is one for all sequences).
  const committed = deps.sequence.committed
  const all = await deps.meta.db.select({ steps: sequences.steps }).from(sequences)
  await applyStoredEngagement(deps.events, committed, all.flatMap((x) => x.steps.map((s) => s.campaignId)))
  // The conversions stored since the last read, onto the entries' rows of every sequence with a goal
  // (and this sequence's rows computed whole if its goal has none yet), read after any computation
  // running in this process ended.
  const goals = async () =>
    (await deps.meta.db.select({ id: sequences.id, goal: sequences.goal }).from(sequences)).flatMap((x) => (x.goal ? [{ sequenceId: x.id, type: x.goal.type, withinMs: x.goal.withinMs }] : []))
  if (hasGoal) await catchUpConversions(deps.events, committed, goals, seq.id)

  // The entries by cohort and state: one pass over the entries.
  const entries = queryRows<{ cohort_text: string; status: string; exit_reason: string; exit_step_id: string; n: number; reached: number[] }>(
    deps.events,
    `SELECT toString(cohort) AS cohort_text, status, exit_reason, exit_step_id, count() AS n,
            sumForEach(arrayMap(x -> toUInt64(entered_ms <= x), {thresholds:Array(Int64)})) AS reached
     FROM (SELECT ${cohortExpr} AS cohort, status, exit_reason, exit_step_id, toUnixTimestamp64Milli(entered_at) AS entered_ms
           FROM ${db}.sequence_enrollments FINAL WHERE sequence_id = {s:String}${entryWindow})
     GROUP BY cohort, status, exit_reason, exit_step_id`,
    params,
  )
  // The converted entries (migration 3800: per entry, the goal's conversions in its window, kept up
  // to date above; a few per cent of the entries), per cohort (g = 0) and all (g = 1). The filter on
  // the goal and on a conversion applies after FINAL (neither is in the sorting key).
  const convRowsSql = `SELECT recipient_id, entered_at, convs, steps, sent FROM ${db}.sequence_conversions FINAL
                       WHERE sequence_id = {s:String}${entryWindow} AND goal = {g:String} AND notEmpty(convs)`
  const conversions = hasGoal
    ? queryRows<{ g: number; cohort_text: string; converted: number; conv_ms: number }>(
        deps.events,
        `SELECT grouping(cohort) AS g, toString(cohort) AS cohort_text, count() AS converted, quantileExact(0.5)(convs[1] - toUnixTimestamp64Milli(entered_at)) AS conv_ms
         FROM (SELECT ${cohortExpr} AS cohort, entered_at, convs FROM (${convRowsSql}))
         GROUP BY GROUPING SETS ((cohort), ())`,
        params,
      )
    : Promise.resolve([])
  // Per step and cohort, in one pass over the step sends' rows of sequence_send_facts (migration
  // 3300: each send with its recipient's opens, clicks and unsubscribes of its campaign, human and
  // machine, kept up to date; the events stored since the last read are applied first, above). A
  // send of a campaign that is no longer one of the steps' counts no engagement, as when these were
  // read from the steps' campaigns' events.
  const inStep = 'has({campaigns:Array(String)}, campaign_id)'
  const opened = { human: 'human_open = 1', machine: 'machine_open = 1', all: '(human_open = 1 OR machine_open = 1)' }[t]
  const unsubscribed = { human: 'human_unsubscribe = 1', machine: 'machine_unsubscribe = 1', all: '(human_unsubscribe = 1 OR machine_unsubscribe = 1)' }[t]
  const firstClick = { human: 'human_click', machine: 'machine_click', all: 'if(human_click = 0, machine_click, if(machine_click = 0, human_click, least(human_click, machine_click)))' }[t]
  const steps = queryRows<{ cohort_text: string; step_id: string; sent: number; opened: number; clicked: number; unsubscribed: number; click_ms: number }>(
    deps.events,
    `SELECT if(grouping(cohort) = 1, '', toString(cohort)) AS cohort_text, step_id, count() AS sent, countIf(o) AS opened, countIf(first_click > 0) AS clicked,
            countIf(u) AS unsubscribed, quantileExactIf(0.5)(first_click - sent_ms, first_click > 0) AS click_ms
     FROM (SELECT ${cohortExpr} AS cohort, step_id, toUnixTimestamp64Milli(sent_at) AS sent_ms,
                  ${inStep} AND ${opened} AS o, ${inStep} AND ${unsubscribed} AS u, if(${inStep}, ${firstClick}, 0) AS first_click
           FROM ${db}.sequence_send_facts FINAL WHERE sequence_id = {s:String}${entryWindow})
     GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`,
    params,
  )
  // Per step: the sends of converted entries (carried by their rows), each with the entry's first
  // conversion at or after the send (within the window).
  const stepConversions = hasGoal
    ? queryRows<{ cohort_text: string; step_id: string; converted: number; conv_ms: number }>(
        deps.events,
        `SELECT if(grouping(cohort) = 1, '', toString(cohort)) AS cohort_text, step_id, countIf(conv_at > 0) AS converted,
                quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0) AS conv_ms
         FROM (
           SELECT ${cohortExpr} AS cohort, step_id, toUnixTimestamp64Milli(entered_at) AS entered_ms,
                  arrayFirst(x -> x >= greatest(sent_ms, entered_ms), convs) AS conv_at
           FROM (${convRowsSql}) ARRAY JOIN steps AS step_id, sent AS sent_ms
         )
         GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`,
        params,
      )
    : Promise.resolve([])
  // chDB answers one query at a time: these run one after the other whatever the order here.
  const entryRows = (await entries).map((r) => ({ ...r, cohort: r.cohort_text }))
  const convByCohort = new Map((await conversions).map((r) => [num(r.g) === 1 ? '' : r.cohort_text, r]))
  const stepConv = new Map((await stepConversions).map((r) => [`${r.cohort_text}\u0000${r.step_id}`, r]))
  const stepRows = (await steps).map((r) => {
    const c = stepConv.get(`${r.cohort_text}\u0000${r.step_id}`)
    return { ...r, cohort: r.cohort_text, converted: num(c?.converted), conv_ms: num(c?.conv_ms) }
  })

  const stepIndex = new Map(seq.steps.map((s, i) => [s.id, i]))
  const cohortNames = [...new Set(entryRows.map((r) => r.cohort))].sort()

  const section = (cohort: string | null): FunnelSection => {
    const rows = entryRows.filter((r) => cohort === null || r.cohort === cohort)
    const entered = rows.reduce((a, r) => a + num(r.n), 0)
    const byStatus = (s: string) => rows.filter((r) => r.status === s).reduce((a, r) => a + num(r.n), 0)
    const stepStats = (id: string) => stepRows.find((r) => r.step_id === id && (cohort === null ? r.cohort === '' : r.cohort === cohort))
    const conv = convByCohort.get(cohort ?? '')
    const converted = num(conv?.converted)
    const sentOf = seq.steps.map((s) => num(stepStats(s.id)?.sent))
    const steps = seq.steps.map((s, k): FunnelStep => {
      // Exited at an earlier step: not due for this one. An exit at a step no longer in the list counts as before all.
      const due = rows.filter((r) => r.status !== 'exited' || (stepIndex.get(r.exit_step_id) ?? -1) >= k).reduce((a, r) => a + num(r.reached[k]), 0)
      const skipped: Record<string, number> = {}
      for (const r of [...rows].sort((x, y) => x.exit_reason.localeCompare(y.exit_reason))) {
        if (r.status === 'exited' && r.exit_step_id === s.id) skipped[r.exit_reason] = (skipped[r.exit_reason] ?? 0) + num(r.n)
      }
      const exited = Object.values(skipped).reduce((a, n) => a + n, 0)
      const st = stepStats(s.id)
      const sent = sentOf[k]!
      const next = sentOf[k + 1]
      return {
        stepId: s.id,
        campaignId: s.campaignId,
        offset: s.offset,
        due,
        sent,
        skipped,
        exited,
        pending: Math.max(0, due - sent - exited),
        opened: num(st?.opened),
        clicked: num(st?.clicked),
        unsubscribed: num(st?.unsubscribed),
        converted: num(st?.converted),
        rates: {
          open: rate(num(st?.opened), sent),
          click: rate(num(st?.clicked), sent),
          unsubscribe: rate(num(st?.unsubscribed), sent),
          conversion: rate(num(st?.converted), sent),
          continuation: next === undefined ? null : rate(Math.min(next, sent), sent),
        },
        dropOff: next === undefined ? null : sent - next,
        medianSendToFirstClickMs: num(st?.clicked) > 0 ? Math.round(num(st?.click_ms)) : null,
        medianEntryToConversionMs: num(st?.converted) > 0 ? Math.round(num(st?.conv_ms)) : null,
      }
    })
    return {
      entered,
      active: byStatus('active'),
      completed: byStatus('completed'),
      exited: byStatus('exited'),
      converted,
      conversion: rate(converted, entered),
      medianEntryToConversionMs: converted > 0 ? Math.round(num(conv?.conv_ms)) : null,
      steps,
    }
  }

  return {
    sequenceId: seq.id,
    traffic: q.traffic,
    cohortBy: q.cohort,
    goal: seq.goal ? { type: seq.goal.type, within: seq.goal.within } : null,
    ...section(null),
    cohorts: cohortNames.map((c) => ({ cohort: c, ...section(c) })),
  }
}
