import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import type { SequenceGoal, SequenceStep } from '../store/schema.js'
import { wilson, type Interval } from './statistics.js'
import { num, RECIPIENT_KEY, trafficAggregate, type Traffic } from './sql.js'

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

/** The goal's conversions per recipient (sorted times in ms), valid tokens only; kind "" is a purchase. */
function conversionsSql(db: string): string {
  return `SELECT recipient_id, arraySort(groupArray(toUnixTimestamp64Milli(ts))) AS convs
          FROM ${db}.events
          WHERE type = 'conversion' AND token_valid AND recipient_id != ''
            AND (JSONExtractString(extra, 'kind') = {kind:String} OR (JSONExtractString(extra, 'kind') = '' AND {kind:String} = 'purchase'))
          GROUP BY recipient_id`
}

/**
 * The funnel of a sequence, per step and per cohort of entry date, in three ClickHouse queries:
 * the entries (sequence_enrollments: status, exits by step and reason, how many reached each
 * step's time), the step sends joined to the per-recipient facts of the steps' campaigns (read from
 * the p_recipient_traffic projection, keyed as recipientFacts keys them) and to the goal's
 * conversions, and the entries joined to the conversions. Machine opens and clicks count only
 * with traffic=machine|all.
 */
export async function sequenceFunnel(
  deps: Pick<AppDeps, 'events' | 'clock'>,
  seq: { id: string; steps: SequenceStep[]; goal: SequenceGoal | null },
  q: FunnelQuery,
): Promise<Funnel> {
  const db = deps.events.db
  const now = deps.clock()
  const cohortExpr = `toString(toDate(${COHORT_FN[q.cohort]}))`
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

  const entries = queryRows<{ cohort: string; status: string; exit_reason: string; exit_step_id: string; n: number; reached: number[] }>(
    deps.events,
    `SELECT ${cohortExpr} AS cohort, status, exit_reason, exit_step_id, count() AS n,
            sumForEach(arrayMap(x -> toUInt64(toUnixTimestamp64Milli(entered_at) <= x), {thresholds:Array(Int64)})) AS reached
     FROM ${db}.sequence_enrollments FINAL
     WHERE sequence_id = {s:String}${entryWindow}
     GROUP BY cohort, status, exit_reason, exit_step_id`,
    params,
  )
  const convArg = hasGoal
    ? `arrayFirst(x -> x >= greatest(sent_ms, entered_ms) AND x <= entered_ms + {within:Int64}, c.convs)`
    : '0'
  const steps = queryRows<{ cohort: string; step_id: string; sent: number; opened: number; clicked: number; unsubscribed: number; converted: number; click_ms: number; conv_ms: number }>(
    deps.events,
    `SELECT cohort, step_id, count() AS sent, countIf(opens > 0) AS opened, countIf(clicks > 0) AS clicked, countIf(unsubs > 0) AS unsubscribed,
            countIf(conv_at > 0) AS converted,
            quantileExactIf(0.5)(toUnixTimestamp64Milli(first_click) - sent_ms, clicks > 0) AS click_ms,
            quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0) AS conv_ms
     FROM (
       SELECT ${cohortExpr} AS cohort, s.step_id AS step_id, f.opens AS opens, f.clicks AS clicks, f.unsubs AS unsubs, f.first_click AS first_click,
              toUnixTimestamp64Milli(s.sent_at) AS sent_ms, toUnixTimestamp64Milli(s.entered_at) AS entered_ms, ${convArg} AS conv_at
       FROM (SELECT step_id, campaign_id, recipient_id, entered_at, sent_at FROM ${db}.sequence_sends FINAL WHERE sequence_id = {s:String}${entryWindow}) AS s
       LEFT JOIN (
         SELECT ${RECIPIENT_KEY} AS h,
                ${trafficAggregate('count', t, 'open')} AS opens,
                ${trafficAggregate('count', t, 'click')} AS clicks,
                ${trafficAggregate('count', t, 'unsubscribe')} AS unsubs,
                ${trafficAggregate('min', t, 'click')} AS first_click
         FROM ${db}.events
         WHERE campaign_id IN {campaigns:Array(String)} AND recipient_id != ''
         GROUP BY h
       ) AS f ON f.h = cityHash64(s.campaign_id, s.recipient_id)
       ${hasGoal ? `LEFT JOIN (${conversionsSql(db)}) AS c ON c.recipient_id = s.recipient_id` : ''}
     )
     GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`,
    params,
  )
  const conversions = hasGoal
    ? queryRows<{ cohort: string; converted: number; conv_ms: number }>(
        deps.events,
        `SELECT cohort, countIf(conv_at > 0) AS converted, quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0) AS conv_ms
         FROM (
           SELECT ${cohortExpr} AS cohort, toUnixTimestamp64Milli(e.entered_at) AS entered_ms,
                  arrayFirst(x -> x >= entered_ms AND x <= entered_ms + {within:Int64}, c.convs) AS conv_at
           FROM (SELECT recipient_id, entered_at FROM ${db}.sequence_enrollments FINAL WHERE sequence_id = {s:String}${entryWindow}) AS e
           INNER JOIN (${conversionsSql(db)}) AS c ON c.recipient_id = e.recipient_id
         )
         GROUP BY GROUPING SETS ((cohort), ())`,
        params,
      )
    : Promise.resolve([])
  // chDB answers one query at a time: these run one after the other whatever the order here.
  const [entryRows, stepRows, convRows] = [await entries, await steps, await conversions]

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
