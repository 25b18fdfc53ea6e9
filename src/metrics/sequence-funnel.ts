import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import { sequences, type SequenceGoal, type SequenceStep } from '../store/schema.js'
import { catchUpConversions, goalKey } from '../store/sequence-conversions.js'
import { applyStoredEngagement } from '../store/sequence-facts.js'
import { dayRowsSql, dayText, funnelSpec, refreshFunnelDays } from '../store/sequence-funnel-days.js'
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

/** The cohort of a day of entry (UTC, as the days are). */
const COHORT_OF_DAY: Record<Cohort, string> = {
  day: 'day',
  week: 'toMonday(day)',
  month: 'toStartOfMonth(day)',
}

const DAY_MS = 86_400_000

const rate = (n: number, d: number): Rate => ({ value: d > 0 ? n / d : 0, numerator: n, denominator: d, interval: wilson(n, d) })

/**
 * The funnel of a sequence, per step and per cohort of entry date, from ClickHouse: the entries
 * (sequence_enrollments: status, exits by step and reason, how many reached each step's time), the
 * step sends with their recipients' opens, clicks and unsubscribes of the step's campaign
 * (sequence_send_facts), and the converted entries with their goal conversions and step sends
 * (sequence_conversions), each kept per UTC day of entry (sequence_funnel_days, migration 3900).
 * The two derived tables are brought up to date with the events stored since the last read first,
 * then the days written since their computation are computed again; the read merges a row per day.
 * Exactly as from the entries themselves: the days partly inside from/to are computed from them for
 * the part inside, and who reached a step's time on the day it falls in is counted from that day's
 * entry times. Machine opens and clicks count only with traffic=machine|all.
 */
export async function sequenceFunnel(
  deps: Pick<AppDeps, 'events' | 'meta' | 'sequence' | 'clock'>,
  seq: { id: string; steps: SequenceStep[]; goal: SequenceGoal | null; createdAt: Date },
  q: FunnelQuery,
): Promise<Funnel> {
  const db = deps.events.db
  const now = deps.clock()
  const thresholds = seq.steps.map((s) => now - s.offsetMs)
  const g = seq.goal ? goalKey(seq.goal) : ''
  const spec = funnelSpec(seq.createdAt, g)
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
  // Then the days those catch-ups and every other write since the last read marked.
  await refreshFunnelDays(deps.events, { id: seq.id, spec, goal: g })

  // The whole days inside the window from the kept rows; the days partly inside (from or to not at
  // 00:00 UTC) computed live from the entries inside.
  const firstDay = q.from === undefined ? undefined : Math.ceil(q.from / DAY_MS)
  const endDay = q.to === undefined ? undefined : Math.floor(q.to / DAY_MS)
  const edges = [
    ...(q.from !== undefined && q.from % DAY_MS !== 0 ? [Math.floor(q.from / DAY_MS)] : []),
    ...(q.to !== undefined && q.to % DAY_MS !== 0 ? [Math.floor(q.to / DAY_MS)] : []),
  ].filter((d, i, a) => a.indexOf(d) === i && (q.to === undefined || d * DAY_MS < q.to) && (q.from === undefined || (d + 1) * DAY_MS > q.from))
  const params: Record<string, unknown> = {
    s: seq.id,
    spec,
    g,
    thresholds,
    campaigns: seq.steps.map((s) => s.campaignId),
    days: edges.map((d) => dayText(d * DAY_MS)),
    ...(firstDay !== undefined ? { d0: dayText(firstDay * DAY_MS) } : {}),
    ...(endDay !== undefined ? { d1: dayText(endDay * DAY_MS) } : {}),
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
  }
  const kept = (columns: string, where: string) =>
    `SELECT ${columns} FROM ${db}.sequence_funnel_days FINAL WHERE sequence_id = {s:String}${firstDay !== undefined ? ' AND day >= {d0:Date}' : ''}${endDay !== undefined ? ' AND day < {d1:Date}' : ''}${where}`
  const live = edges.length > 0 ? dayRowsSql(db, { window: { from: q.from !== undefined, to: q.to !== undefined } }) : null
  // The days' rows with `columns`, narrowed by `where` (on the rows' columns); the spec filter after FINAL (not in the sorting key).
  const days = (columns: string, where = '') =>
    `(SELECT ${columns} FROM (${kept(`${columns}, spec`, where)}) WHERE spec = {spec:String}${live ? ` UNION ALL SELECT ${columns} FROM (${live}) WHERE 1${where}` : ''})`
  const cohortExpr = `toDate(${COHORT_OF_DAY[q.cohort]})`

  // The entries by cohort and state, per day. Who reached each step's time (entered ≤ now − offset):
  // all of a group whose latest entry is at or before it, none of one whose earliest is after it,
  // and for the others (on the day it falls in, at most one per step) counted from their entry times.
  const entries = queryRows<{ cohort_text: string; day_text: string; status: string; exit_reason: string; exit_step_id: string; n: number; first: number; last: number }>(
    deps.events,
    `SELECT toString(${cohortExpr}) AS cohort_text, toString(day) AS day_text, status, exit_reason, exit_step_id, n, first, last
     FROM ${days('day, entry_status, entry_reason, entry_step, entry_n, entry_first, entry_last')}
     ARRAY JOIN entry_status AS status, entry_reason AS exit_reason, entry_step AS exit_step_id, entry_n AS n, entry_first AS first, entry_last AS last`,
    params,
  )
  // The converted entries per cohort (g = 0) and all (g = 1), with the median time from entry to
  // the first conversion (exact: the days keep the values).
  const conversions = hasGoal
    ? queryRows<{ g: number; cohort_text: string; converted: number; conv_ms: number }>(
        deps.events,
        `SELECT grouping(cohort) AS g, toString(cohort) AS cohort_text, sum(length(conversion_ms)) AS converted, quantileExactArray(0.5)(conversion_ms) AS conv_ms
         FROM (SELECT ${cohortExpr} AS cohort, conversion_ms FROM ${days('day, conversion_ms')})
         GROUP BY GROUPING SETS ((cohort), ())`,
        params,
      )
    : Promise.resolve([])
  // Per step and cohort: the sends, and their opens, clicks and unsubscribes of the traffic asked
  // for. A send of a campaign that is no longer one of the steps' counts no engagement, as when
  // these were read from the steps' campaigns' events.
  const inStep = 'has({campaigns:Array(String)}, campaign)'
  const tr = { human: 'human', machine: 'machine', all: 'any' }[t]
  const steps = queryRows<{ cohort_text: string; step_id: string; sent: number; opened: number; clicked: number; unsubscribed: number; click_ms: number }>(
    deps.events,
    `SELECT if(grouping(cohort) = 1, '', toString(cohort)) AS cohort_text, step_id, sum(sent) AS sent, sum(o) AS opened, sum(length(clicks)) AS clicked,
            sum(u) AS unsubscribed, quantileExactArray(0.5)(clicks) AS click_ms
     FROM (SELECT ${cohortExpr} AS cohort, step_id, sent, if(${inStep}, o, 0) AS o, if(${inStep}, u, 0) AS u, if(${inStep}, c, []) AS clicks
           FROM ${days(`day, step_id, step_campaign, step_sent, step_${tr}_open, step_${tr}_unsubscribe, step_${tr}_click`)}
           ARRAY JOIN step_id, step_campaign AS campaign, step_sent AS sent, step_${tr}_open AS o, step_${tr}_unsubscribe AS u, step_${tr}_click AS c)
     GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`,
    params,
  )
  // Per step: the sends of converted entries followed by a conversion within the window.
  const stepConversions = hasGoal
    ? queryRows<{ cohort_text: string; step_id: string; converted: number; conv_ms: number }>(
        deps.events,
        `SELECT if(grouping(cohort) = 1, '', toString(cohort)) AS cohort_text, step_id, sum(length(ms)) AS converted, quantileExactArray(0.5)(ms) AS conv_ms
         FROM (SELECT ${cohortExpr} AS cohort, step_id, ms FROM ${days('day, conversion_step, conversion_step_ms')} ARRAY JOIN conversion_step AS step_id, conversion_step_ms AS ms)
         GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`,
        params,
      )
    : Promise.resolve([])
  // chDB answers one query at a time: these run one after the other whatever the order here.
  const dayRows = (await entries).map((r) => {
    const first = num(r.first)
    const last = num(r.last)
    return { ...r, first, last, reached: thresholds.map((x) => (x >= last ? num(r.n) : x < first ? 0 : null)) }
  })
  const straddle = [...new Set(dayRows.filter((r) => r.reached.includes(null)).map((r) => r.day_text))]
  if (straddle.length > 0) {
    const groupKey = (r: { day_text: string; status: string; exit_reason: string; exit_step_id: string }) => `${r.day_text}\u0000${r.status}\u0000${r.exit_reason}\u0000${r.exit_step_id}`
    const counted = await queryRows<{ day_text: string; status: string; exit_reason: string; exit_step_id: string; reached: number[] }>(
      deps.events,
      `SELECT toString(day) AS day_text, status, exit_reason, exit_step_id, arrayMap(x -> arrayCount(y -> y <= x, times), {thresholds:Array(Int64)}) AS reached
       FROM ${days('day, entry_status, entry_reason, entry_step, entry_times', ' AND day IN {straddle:Array(Date)}')}
       ARRAY JOIN entry_status AS status, entry_reason AS exit_reason, entry_step AS exit_step_id, entry_times AS times`,
      { ...params, straddle },
    )
    const byGroup = new Map(counted.map((r) => [groupKey(r), r.reached]))
    for (const r of dayRows) if (r.reached.includes(null)) r.reached = r.reached.map((v, k) => v ?? num(byGroup.get(groupKey(r))?.[k]))
  }
  // Summed per cohort and state, as one pass over the entries gave them.
  const byState = new Map<string, { cohort: string; status: string; exit_reason: string; exit_step_id: string; n: number; reached: number[] }>()
  for (const r of dayRows) {
    const key = `${r.cohort_text}\u0000${r.status}\u0000${r.exit_reason}\u0000${r.exit_step_id}`
    const acc = byState.get(key) ?? byState.set(key, { cohort: r.cohort_text, status: r.status, exit_reason: r.exit_reason, exit_step_id: r.exit_step_id, n: 0, reached: thresholds.map(() => 0) }).get(key)!
    acc.n += num(r.n)
    r.reached.forEach((v, k) => (acc.reached[k]! += v ?? 0))
  }
  const entryRows = [...byState.values()]
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
