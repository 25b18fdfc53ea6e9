import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import { sequences, type SequenceGoal, type SequenceStep } from '../store/schema.js'
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
 * The goal's conversions per recipient (sorted times in ms), valid tokens only; kind "" is a
 * purchase. Keyed by `rh`, cityHash64(recipient_id): joined on one integer instead of the string
 * (a collision among a million recipients has a probability around 10^-7, as RECIPIENT_KEY's).
 * `window` narrows them to the times a conversion of the entries asked about can have.
 */
function conversionsSql(db: string, window: string): string {
  return `SELECT cityHash64(recipient_id) AS rh, arraySort(groupArray(toUnixTimestamp64Milli(ts))) AS convs
          FROM ${db}.events
          WHERE type = 'conversion' AND token_valid AND recipient_id != ''${window}
            AND (JSONExtractString(extra, 'kind') = {kind:String} OR (JSONExtractString(extra, 'kind') = '' AND {kind:String} = 'purchase'))
          GROUP BY recipient_id`
}

/**
 * The funnel of a sequence, per step and per cohort of entry date, in two ClickHouse queries:
 * the entries (sequence_enrollments: status, exits by step and reason, how many reached each
 * step's time) joined to the goal's conversions, and the step sends with their recipients' opens,
 * clicks and unsubscribes of the step's campaign (sequence_send_facts, brought up to date with the
 * events stored since the last read first) and the conversions.
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
    kind: seq.goal?.type ?? '',
    within: seq.goal?.withinMs ?? 0,
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
  }
  const t = q.traffic
  const hasGoal = seq.goal !== null
  // The opens, clicks and unsubscribes stored since the last read, onto the step sends' rows: every
  // sequence's step campaigns (the cursor is one for all sequences).
  const all = await deps.meta.db.select({ steps: sequences.steps }).from(sequences)
  await applyStoredEngagement(deps.events, deps.sequence.committed, all.flatMap((x) => x.steps.map((s) => s.campaignId)))

  const convs = (entered: string, after: string) =>
    hasGoal ? `arrayFirst(x -> x >= ${after} AND x <= ${entered} + {within:Int64}, c.convs)` : '0'
  // A conversion counts from the entry up to the goal's window after it: with from/to, nothing
  // before from or from to + within on can count, so the buyers' side leaves it out.
  const convWindow = `${q.from !== undefined ? ` AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')` : ''}${q.to !== undefined ? ` AND ts <= fromUnixTimestamp64Milli({to:Int64} + {within:Int64}, 'UTC')` : ''}`
  const convJoin = (side: string) => (hasGoal ? `LEFT ANY JOIN (${conversionsSql(db, convWindow)}) AS c ON c.rh = ${side}.rh` : '')
  // The entries by cohort and state, and the goal's conversions within the window after entry
  // (rows where g = 1: per cohort, g = 3: all; grouping() sets a bit per column rolled up): one
  // pass over the entries, joined to the buyers' conversions.
  const entries = queryRows<{ g: number; cohort_text: string; status: string; exit_reason: string; exit_step_id: string; n: number; reached: number[]; converted: number; conv_ms: number }>(
    deps.events,
    `SELECT grouping(cohort, status) AS g, toString(cohort) AS cohort_text, status, exit_reason, exit_step_id, count() AS n,
            sumForEach(arrayMap(x -> toUInt64(entered_ms <= x), {thresholds:Array(Int64)})) AS reached,
            countIf(conv_at > 0) AS converted, quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0) AS conv_ms
     FROM (
       SELECT e.cohort AS cohort, e.status AS status, e.exit_reason AS exit_reason, e.exit_step_id AS exit_step_id, e.entered_ms AS entered_ms,
              ${convs('entered_ms', 'entered_ms')} AS conv_at
       FROM (SELECT ${cohortExpr} AS cohort, cityHash64(recipient_id) AS rh, status, exit_reason, exit_step_id, toUnixTimestamp64Milli(entered_at) AS entered_ms
             FROM ${db}.sequence_enrollments FINAL WHERE sequence_id = {s:String}${entryWindow}) AS e
       ${convJoin('e')}
     )
     GROUP BY GROUPING SETS ((cohort, status, exit_reason, exit_step_id), (cohort), ())`,
    params,
  )
  // Per step and cohort, in one pass over the step sends' rows of sequence_send_facts (migration
  // 3300: each send with its recipient's opens, clicks and unsubscribes of its campaign, human and
  // machine, kept up to date; the events stored since the last read are applied first, above), and
  // each buyer's conversions (joined on an integer key, unique on the right, hence ANY). A send of
  // a campaign that is no longer one of the steps' counts no engagement, as when these were read
  // from the steps' campaigns' events. Measured against the probes into sets of openers and the
  // join to the clickers it replaces: bench/README.md, ninth session.
  const inStep = 'has({campaigns:Array(String)}, campaign_id)'
  const opened = { human: 'human_open = 1', machine: 'machine_open = 1', all: '(human_open = 1 OR machine_open = 1)' }[t]
  const unsubscribed = { human: 'human_unsubscribe = 1', machine: 'machine_unsubscribe = 1', all: '(human_unsubscribe = 1 OR machine_unsubscribe = 1)' }[t]
  const firstClick = { human: 'human_click', machine: 'machine_click', all: 'if(human_click = 0, machine_click, if(machine_click = 0, human_click, least(human_click, machine_click)))' }[t]
  const steps = queryRows<{ cohort_text: string; step_id: string; sent: number; opened: number; clicked: number; unsubscribed: number; converted: number; click_ms: number; conv_ms: number }>(
    deps.events,
    `SELECT if(grouping(cohort) = 1, '', toString(cohort)) AS cohort_text, step_id, count() AS sent, countIf(o) AS opened, countIf(first_click > 0) AS clicked,
            countIf(u) AS unsubscribed, countIf(conv_at > 0) AS converted,
            quantileExactIf(0.5)(first_click - sent_ms, first_click > 0) AS click_ms,
            quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0) AS conv_ms
     FROM (
       SELECT s.cohort AS cohort, s.step_id AS step_id, s.sent_ms AS sent_ms, s.entered_ms AS entered_ms, s.o AS o, s.u AS u, s.first_click AS first_click,
              ${convs('entered_ms', 'greatest(sent_ms, entered_ms)')} AS conv_at
       FROM (SELECT ${cohortExpr} AS cohort, step_id, cityHash64(recipient_id) AS rh,
                    toUnixTimestamp64Milli(sent_at) AS sent_ms, toUnixTimestamp64Milli(entered_at) AS entered_ms,
                    ${inStep} AND ${opened} AS o, ${inStep} AND ${unsubscribed} AS u, if(${inStep}, ${firstClick}, 0) AS first_click
             FROM ${db}.sequence_send_facts FINAL WHERE sequence_id = {s:String}${entryWindow}) AS s
       ${convJoin('s')}
     )
     GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`,
    params,
  )
  // chDB answers one query at a time: these run one after the other whatever the order here.
  const [allEntryRows, stepRows] = [(await entries).map((r) => ({ ...r, cohort: r.cohort_text })), (await steps).map((r) => ({ ...r, cohort: r.cohort_text }))]
  const entryRows = allEntryRows.filter((r) => num(r.g) === 0)
  const convRows = allEntryRows.filter((r) => num(r.g) !== 0).map((r) => ({ ...r, cohort: num(r.g) === 3 ? '' : r.cohort }))

  const stepIndex = new Map(seq.steps.map((s, i) => [s.id, i]))
  const cohortNames = [...new Set(entryRows.map((r) => r.cohort))].sort()

  const section = (cohort: string | null): FunnelSection => {
    const rows = entryRows.filter((r) => cohort === null || r.cohort === cohort)
    const entered = rows.reduce((a, r) => a + num(r.n), 0)
    const byStatus = (s: string) => rows.filter((r) => r.status === s).reduce((a, r) => a + num(r.n), 0)
    const stepStats = (id: string) => stepRows.find((r) => r.step_id === id && (cohort === null ? r.cohort === '' : r.cohort === cohort))
    const conv = convRows.find((r) => (cohort === null ? r.cohort === '' : r.cohort === cohort))
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
