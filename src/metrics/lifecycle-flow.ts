import { divDecimal, fixed, fromUnits, inCurrency, toUnits } from '../conversions/money.js'
import { type EventStore, queryRows } from '../store/clickhouse.js'
import { notFound } from '../util/errors.js'
import { STAGES, stageDefinitions, stageParams, stageSql, stageThresholds, type Stage, type StageThresholds } from './stages.js'
import { differenceInterval, normalQuantile, wilson } from './statistics.js'

/*
 * Where customers go and what they are worth, measured on the purchase history: the stage of every
 * customer at a few instants one horizon apart (same rules as /v1/lifecycle, from the purchases up to
 * each instant), the pairs of stages at consecutive instants, and the revenue between them.
 */

const DAY = 86_400_000

export interface FlowOptions extends Partial<StageThresholds> {
  /** End of the last window (epoch ms). */
  at: number
  horizonDays: number
  /** Conversion kind that counts as a purchase. */
  kind: string
}

type Group = 'all' | 'sent' | 'holdout' | 'other'

interface CellRow {
  i: number
  grp: Group
  from_stage: Stage | ''
  to_stage: Stage
  n: number
}

/** Revenue of window i of the customers in `from_stage` at its start, in one currency, and its sum of squares per customer. */
interface MoneyRow {
  i: number
  from_stage: Stage
  currency: string
  sum: string
  sq: number
}

interface Cohort {
  campaignId?: string | undefined
  segment?: string | undefined
  /**
   * Only the campaign's recipients (its sends and holdouts, in the segment when one is given): grp is then
   * 'sent' or 'holdout', never 'other'. For a campaign with a holdout, whose comparison is the holdout: the
   * customers neither sent nor held out (nine in ten) are not read.
   */
  recipientsOnly?: boolean
}

/**
 * Each customer's orders from customer_orders (migrations 1700, 2200, 2210): `ms`, the order times (epoch ms),
 * each order once. For the transitions from `kept`, which the merges keep with one entry per order key
 * (the largest ver: the API's row over the pixel's, then the earliest, the row purchases FINAL keeps).
 * With `money`, from `kept_money` instead, the same entries with the kept row's `amounts` and `currencies`:
 * no raw array read and no order key recorded twice to look for.
 */
function customerOrdersSql(db: string, groups: string, population: string, money: boolean): string {
  const msOf = (v: string) => `toInt64(if(${v} > 10000000000000, 20000000000000, 10000000000000) - ${v})`
  const inner = `FROM ${db}.customer_orders FINAL WHERE kind = {kind:String} ${population}`
  if (!money) return `SELECT ${groups} AS grp, arrayMap(v -> ${msOf('v')}, tupleElement(kept, 2)) AS ms ${inner}`
  return `SELECT grp, arrayMap(v -> ${msOf('v')}, tupleElement(o, 1)) AS ms, tupleElement(o, 2) AS amounts, tupleElement(o, 3) AS currencies
    FROM (SELECT ${groups} AS grp, tupleElement(kept_money, 2) AS o ${inner})`
}

/**
 * One pass over the customers (customer_orders: one row each, not one per order). Per customer the first
 * purchase and two bit sets over the instants: bit k when an order lies less than activeDays (bit 32 + k:
 * lapsedDays) before instant k, at or before it. Each order sets a run of bits found by arithmetic (the
 * instants are one horizon apart), OR-ed per customer: no scan of the orders per instant (≈ 50 ms of CPU
 * each on 5 M orders). The stage at instant k (0: not yet a customer, then STAGES' place plus one) follows
 * as arithmetic, with the rules of stageSql: new when the first purchase is within newDays, else active,
 * lapsing or lapsed by those bits. The stages at every instant, 3 bits each, packed into integers of 17
 * instants (exact in JavaScript), are what customers are counted by: a few thousand rows that JavaScript
 * turns into the matrices. With `revenue`, each customer's revenue per window and currency (summed per
 * customer first: the interval needs its square), summed per stages and currency; JavaScript keys it by the
 * stage at the window's start.
 * `instants` ascending, one horizon apart when more than two; window i (1-based) runs from instants[i-1]
 * (excluded) to instants[i] (included).
 */
async function flowCells(
  store: EventStore,
  instants: number[],
  t: StageThresholds,
  kind: string,
  cohort: Cohort,
  revenue: boolean,
): Promise<{ cells: CellRow[]; money: MoneyRow[] }> {
  const db = store.db
  const seg = cohort.segment !== undefined ? ' AND has(segments, {segment:String})' : ''
  const sent = `recipient_id IN (SELECT recipient_id FROM ${db}.sends WHERE campaign_id = {campaign:String}${seg})`
  // Read by the primary key (campaign_id first in both tables). Among the campaign's recipients, those not sent it were held out.
  const groups = cohort.campaignId === undefined
    ? `'all'`
    : cohort.recipientsOnly
      ? `if(${sent}, 'sent', 'holdout')`
      : `multiIf(${sent}, 'sent', recipient_id IN (SELECT recipient_id FROM ${db}.holdouts WHERE campaign_id = {campaign:String}${seg}), 'holdout', 'other')`
  // With a segment, the customers the sender ever placed in it (in any campaign's sends or holdouts); the campaign's recipients in it are among them.
  const population = cohort.campaignId !== undefined && cohort.recipientsOnly
    ? `AND recipient_id IN (SELECT recipient_id FROM ${db}.sends WHERE campaign_id = {campaign:String}${seg}
                            UNION ALL SELECT recipient_id FROM ${db}.holdouts WHERE campaign_id = {campaign:String}${seg})`
    : cohort.segment !== undefined
      ? `AND recipient_id IN (SELECT recipient_id FROM ${db}.sends WHERE has(segments, {segment:String})
                              UNION ALL SELECT recipient_id FROM ${db}.holdouts WHERE has(segments, {segment:String}))`
      : ''
  const windows = instants.length - 1
  const last = instants[windows]!
  const at = (k: number) => `{instants:Array(Int64)}[${k + 1}]`
  // The window an order falls in: 0 at or before the first instant, i in (instants[i-1], instants[i]].
  const windowOf = (m: string) => `if(${m} <= {first:Int64}, 0, intDiv(${m} - {first:Int64} - 1, {horizon:Int64}) + 1)`
  // Bits k of the instants at or after order m and less than T after it; two instants are compared directly (a campaign's may be any distance apart).
  const run = (m: string, T: string) => {
    if (windows === 1) return `(toUInt64(${m} <= ${at(0)} AND ${at(0)} - ${m} < ${T}) + 2 * toUInt64(${m} <= ${at(1)} AND ${at(1)} - ${m} < ${T}))`
    const hi = `if(${m} + ${T} <= {first:Int64}, -1, least({windows:Int64}, intDiv(${m} + ${T} - 1 - {first:Int64}, {horizon:Int64})))`
    return `if(${windowOf(m)} > ${hi}, toUInt64(0), toUInt64(bitShiftLeft(toUInt64(1), ${hi} + 1) - bitShiftLeft(toUInt64(1), ${windowOf(m)})))`
  }
  const bits = `arrayReduce('groupBitOr', arrayMap(m -> ${run('m', '{activeMs:Int64}')} + bitShiftLeft(${run('m', '{lapsedMs:Int64}')}, 32), ms))`
  // With revenue (value: three instants), each instant's bits from the customer's last order at or before it (0, so neither bit, when none):
  // one arrayMax per instant is cheaper than the runs' arithmetic and arrayReduce per customer.
  const lastAt = (k: number) => `arrayMax(m -> if(m <= ${at(k)}, m, 0), ms)`
  const bitsFew = instants
    .flatMap((_, k) => [
      `bitShiftLeft(toUInt64(${at(k)} - ${lastAt(k)} < {activeMs:Int64}), ${k})`,
      `bitShiftLeft(toUInt64(${at(k)} - ${lastAt(k)} < {lapsedMs:Int64}), ${k + 32})`,
    ])
    .reduce((a, b) => `bitOr(${a}, ${b})`)
  // Arithmetic rather than multiIf: the short-circuit evaluation of multiIf re-evaluated the bit sets per branch.
  const code = (k: number) =>
    `toUInt64(first <= ${at(k)}) * (1 + (${at(k)} - first >= {newMs:Int64}) * (1 + (1 - bitTest(bits, ${k})) * (1 + (1 - bitTest(bits, ${k + 32})))))`
  const PER_KEY = 17
  const keys = Array.from({ length: Math.ceil(instants.length / PER_KEY) }, (_, j) =>
    `${instants.slice(j * PER_KEY, (j + 1) * PER_KEY).map((_, i) => `${code(j * PER_KEY + i)} * ${8 ** i}`).join(' + ')} AS key${j}`,
  )
  const keyNames = keys.map((_, j) => `key${j}`)
  // With revenue, per customer its orders inside a window (window, currency, amount) and their distinct currencies (none: ''). The customer's
  // sum per window in its first currency is a plain arraySum on the customer's row, summed per (group, stages, currency); the other currencies
  // (rarely any) go to a sumMap skipped for the customers without one: no nested lambda over every customer's orders and no ARRAY JOIN
  // (bench/README.md, seventh session). sumMap drops a key whose values all sum to 0: never here, its count of customers with an order is ≥ 1.
  const perCustomer = revenue
    ? `, arrayFilter(x -> x.1 > {first:Int64} AND x.1 <= {last:Int64} AND x.2 != '', arrayZip(ms, currencies, amounts)) AS inside,
         arrayMap(x -> ${windowOf('x.1')}, inside) AS iw, tupleElement(inside, 2) AS ic, tupleElement(inside, 3) AS ia,
         if(empty(ic), [''], arrayDistinct(ic)) AS cs, cs[1] AS cur, arraySlice(cs, 2) AS xc`
    : ''
  const wins = instants.slice(1).map((_, j) => j + 1)
  const sumOf = (w: number, c: string) => `toDecimal128(arraySum((x, y, a) -> if(x = ${w} AND y = ${c}, a, 0), iw, ic, ia), 4)`
  const square = (w: number, c: string) => `toFloat64(${sumOf(w, c)}) * toFloat64(${sumOf(w, c)})`
  const ordered = (w: number, c: string) => `arrayExists((x, y) -> x = ${w} AND y = ${c}, iw, ic)`
  const money = [
    ...wins.map((w) => `sum(${sumOf(w, 'cur')}) AS sum${w}, sum(${square(w, 'cur')}) AS sq${w}, countIf(${ordered(w, 'cur')}) AS orders${w}`),
    `sumMapIf(xc, ${[
      ...wins.map((w) => `arrayMap(c -> ${sumOf(w, 'c')}, xc)`),
      ...wins.map((w) => `arrayMap(c -> ${square(w, 'c')}, xc)`),
      ...wins.map((w) => `arrayMap(c -> toUInt64(${ordered(w, 'c')}), xc)`),
    ].join(', ')}, notEmpty(xc)) AS extra`,
  ].join(',\n')
  // Customers are counted per (group, stages) (with revenue, per first currency too).
  const sql = revenue
    ? `SELECT grp, ${keyNames.join(', ')}, cur, count() AS n, ${money}
       FROM (
         SELECT grp, ${keys.join(', ')} ${perCustomer}
         FROM (
           SELECT grp, ms, amounts, currencies, first, ${bitsFew} AS bits
           FROM (SELECT grp, amounts, currencies, ms, arrayMin(ms) AS first FROM (${customerOrdersSql(db, groups, population, true)}))
           WHERE first <= {last:Int64}
         )
       )
       GROUP BY grp, ${keyNames.join(', ')}, cur`
    : `SELECT grp, ${keyNames.join(', ')}, count() AS n
       FROM (
         SELECT grp, ${keys.join(', ')}
         FROM (
           SELECT grp, first, ${bits} AS bits
           FROM (SELECT grp, ms, arrayMin(ms) AS first FROM (${customerOrdersSql(db, groups, population, false)}))
           WHERE first <= {last:Int64}
         )
       )
       GROUP BY grp, ${keyNames.join(', ')}`
  const params = {
    kind,
    instants,
    windows,
    last,
    first: instants[0]!,
    horizon: instants.length > 1 ? instants[1]! - instants[0]! : DAY,
    ...stageParams(t),
    ...(cohort.campaignId ? { campaign: cohort.campaignId } : {}),
    ...(cohort.segment !== undefined ? { segment: cohort.segment } : {}),
  }
  const rows = await queryRows<Record<string, number | string> & { grp: Group; n: number; cur?: string; extra?: [string[], ...Array<Array<string | number>>] }>(store, sql, params)
  const stageOf = (code: number): Stage | '' => (code === 0 ? '' : STAGES[code - 1]!)
  const counts = new Map<string, CellRow>()
  const moneyRows: MoneyRow[] = []
  for (const r of rows) {
    const c = instants.map((_, k) => Math.floor(Number(r[`key${Math.floor(k / PER_KEY)}`]) / 8 ** (k % PER_KEY)) % 8)
    // Window i's revenue per currency, of the customers with a stage at its start and an order in that currency inside it:
    // the row's first currency, then the others (the sumMap's values: sums, squares, customers with an order, per window).
    if (revenue) {
      const [others, ...values] = r.extra!
      for (let i = 1; i <= windows; i++) {
        if (c[i - 1] === 0) continue
        const from = stageOf(c[i - 1]!) as Stage
        if (Number(r[`orders${i}`]) > 0) moneyRows.push({ i, from_stage: from, currency: r.cur!, sum: String(r[`sum${i}`]), sq: Number(r[`sq${i}`]) })
        others.forEach((currency, j) => {
          if (Number(values[2 * windows + i - 1]![j]) > 0) moneyRows.push({ i, from_stage: from, currency, sum: String(values[i - 1]![j]), sq: Number(values[windows + i - 1]![j]) })
        })
      }
    }
    // Window i: from the stage at its start to the stage at its end; none when not yet a customer at its end.
    for (let i = 1; i <= windows; i++) {
      if (c[i] === 0) continue
      const key = `${r.grp}|${i}|${c[i - 1]}|${c[i]}`
      const cell = counts.get(key)
      if (cell) cell.n += Number(r.n)
      else counts.set(key, { i, grp: r.grp, from_stage: stageOf(c[i - 1]!), to_stage: stageOf(c[i]!) as Stage, n: Number(r.n) })
    }
  }
  return { cells: [...counts.values()], money: moneyRows }
}

export interface Cell {
  stage: Stage
  count: number
  /** count / customers of the row, with its Wilson 95% interval. */
  share: number
  low: number
  high: number
}

export interface MatrixRow {
  stage: Stage
  /** Customers in `stage` at the window's start: the denominator of the row's shares. */
  customers: number
  to: Cell[]
}

function matrix(rows: CellRow[]): MatrixRow[] {
  return STAGES.map((from) => {
    const counts = Object.fromEntries(STAGES.map((to) => [to, 0])) as Record<Stage, number>
    for (const r of rows) if (r.from_stage === from) counts[r.to_stage] += r.n
    const customers = STAGES.reduce((a, s) => a + counts[s], 0)
    return {
      stage: from,
      customers,
      to: STAGES.map((to) => {
        const w = wilson(counts[to], customers)
        return { stage: to, count: counts[to], share: w.value, low: w.low, high: w.high }
      }),
    }
  })
}

export const FLOW_METHOD = {
  transitions:
    'Each customer (recipient id with a purchase at or before the window\'s start) is placed in a stage at the start and at the end of each window, ' +
    'from the purchases up to that instant, with the thresholds of /v1/lifecycle. share = count / customers of the row; Wilson 95% interval. ' +
    'acquired: customers whose first purchase falls inside the window (no stage at its start).',
  lift:
    'Customers placed at the first send of the campaign (start) and one horizon later (end). sent: recipients of the campaign\'s sends; ' +
    'comparison: its holdout (recipients recorded with holdout: true, not mailed) when there is one, else every other customer. ' +
    'difference = sent share - comparison share, Newcombe hybrid score 95% interval.',
  value:
    'For the customers in each stage one horizon before asOf, the revenue of their purchases in the horizon that followed, per currency, divided by ' +
    'their number (customers without a purchase count as 0): mean from the exact sum in the currency\'s own decimals, 95% normal interval (mean ± 1.96 × sd / √n, low clipped at 0). ' +
    'backtest: the same figure one horizon earlier (predicted) against the one observed since (actual); error = predicted - actual.',
}

export interface Window {
  from: string
  to: string
  /** Customers with a stage at the start (the sum of the rows' customers). */
  customers: number
  acquired: number
  rows: MatrixRow[]
}

export interface Transitions {
  asOf: string
  horizonDays: number
  thresholds: StageThresholds
  definitions: Record<Stage, string>
  /** Oldest first. */
  windows: Window[]
  campaign?: CampaignLift
  method: string
}

export interface CampaignLift {
  campaignId: string
  segment: string | null
  start: string
  end: string
  /** false when one horizon after the first send has not yet passed: end is asOf. */
  complete: boolean
  sent: { customers: number; rows: MatrixRow[] }
  comparison: { group: 'holdout' | 'not_sent'; customers: number; rows: MatrixRow[] }
  /** true only with a holdout: the difference is then the campaign's measured effect. */
  measuredLift: boolean
  note: string
  lift: Array<{ from: Stage; to: Stage; sent: number; comparison: number; difference: number; low: number; high: number }>
  method: string
}

export interface TransitionsOptions extends FlowOptions {
  windows: number
  campaignId?: string | undefined
  segment?: string | undefined
}

/** GET /v1/lifecycle/transitions. */
export async function lifecycleTransitions(store: EventStore, o: TransitionsOptions): Promise<Transitions> {
  const t = stageThresholds(o)
  const h = o.horizonDays * DAY
  const instants = Array.from({ length: o.windows + 1 }, (_, k) => o.at - (o.windows - k) * h)
  const cohort = { segment: o.segment }
  const { cells } = await flowCells(store, instants, t, o.kind, cohort, false)
  const windows = instants.slice(1).map((end, k) => {
    const rows = cells.filter((c) => c.i === k + 1)
    const m = matrix(rows)
    return {
      from: new Date(instants[k]!).toISOString(),
      to: new Date(end).toISOString(),
      customers: m.reduce((a, r) => a + r.customers, 0),
      acquired: rows.filter((r) => r.from_stage === '').reduce((a, r) => a + r.n, 0),
      rows: m,
    }
  })
  const out: Transitions = {
    asOf: new Date(o.at).toISOString(),
    horizonDays: o.horizonDays,
    thresholds: t,
    definitions: stageDefinitions(t, 'the instant'),
    windows,
    method: FLOW_METHOD.transitions,
  }
  if (o.campaignId) out.campaign = await campaignLift(store, o, t)
  return out
}

async function campaignLift(store: EventStore, o: TransitionsOptions, t: StageThresholds): Promise<CampaignLift> {
  const campaignId = o.campaignId!
  const [first] = await queryRows<{ start: number; held: number; n: number }>(
    store,
    `SELECT toUnixTimestamp64Milli(min(t)) AS start, countIf(held) AS held, count() AS n
     FROM (SELECT sent_at AS t, false AS held FROM ${store.db}.sends WHERE campaign_id = {c:String}
           UNION ALL SELECT held_at AS t, true AS held FROM ${store.db}.holdouts WHERE campaign_id = {c:String})`,
    { c: campaignId },
  )
  if (!first || Number(first.n) === 0) throw notFound(`campaign ${campaignId}: no sends recorded`)
  const start = Number(first.start)
  const end = Math.min(start + o.horizonDays * DAY, o.at)
  const holdout = Number(first.held) > 0
  // Without a holdout the comparison is every other customer: all are read.
  const { cells } = await flowCells(store, [start, end], t, o.kind, { campaignId, segment: o.segment, recipientsOnly: holdout }, false)
  const sent = matrix(cells.filter((c) => c.grp === 'sent'))
  const comparison = matrix(cells.filter((c) => c.grp === (holdout ? 'holdout' : 'other')))
  const lift = sent.flatMap((row, r) =>
    row.to.map((cell, k) => {
      const cmp = comparison[r]!
      const d = differenceInterval(cell.count, row.customers, cmp.to[k]!.count, cmp.customers)
      return { from: row.stage, to: cell.stage, sent: cell.share, comparison: cmp.to[k]!.share, difference: d.value, low: d.low, high: d.high }
    }),
  )
  const total = (m: MatrixRow[]) => m.reduce((a, r) => a + r.customers, 0)
  return {
    campaignId,
    segment: o.segment ?? null,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    complete: end === start + o.horizonDays * DAY,
    sent: { customers: total(sent), rows: sent },
    comparison: { group: holdout ? 'holdout' : 'not_sent', customers: total(comparison), rows: comparison },
    measuredLift: holdout,
    note: holdout
      ? 'Compared with the campaign\'s holdout (recipients chosen not to be mailed): the difference is the measured effect of the campaign.'
      : 'No holdout was recorded for this campaign: compared with the customers it was not sent to, whom the sender may have chosen differently. ' +
        'This is not a measured lift; record a holdout (holdout: true in POST /v1/campaigns/{id}/sends) to measure one.',
    lift,
    method: FLOW_METHOD.lift,
  }
}

export interface StageValue {
  currency: string
  /** Revenue of the stage's customers over the horizon (exact sum, in the currency's decimals). */
  revenue: string
  /** revenue / customers, from the exact sum, in the currency's decimals (half up). */
  mean: string
  low: string
  high: string
}

export interface BacktestRow {
  currency: string
  /** The figure one horizon earlier: what would have been predicted. */
  predicted: string
  /** What customers in that stage then did; null when no customer was in it. */
  actual: string | null
  /** predicted - actual, from the exact figures, in the currency's decimals. */
  error: string | null
  /** error / actual; null when actual is 0 or null. */
  relativeError: number | null
  /** Whether actual lies inside the predicted figure's interval. */
  withinInterval: boolean | null
  /** Customers the prediction rests on (in the stage one horizon before the window). */
  customers: number
}

export interface LifecycleValue {
  asOf: string
  horizonDays: number
  thresholds: StageThresholds
  window: { from: string; to: string }
  backtestWindow: { from: string; to: string }
  stages: Array<{ stage: Stage; customers: number; definition: string; value: StageValue[]; backtest: BacktestRow[] }>
  method: string
}

const Z95 = normalQuantile(0.975)

function stageValues(rows: CellRow[], money: MoneyRow[], stage: Stage, currencies: string[]): { customers: number; value: StageValue[] } {
  const n = rows.filter((r) => r.from_stage === stage).reduce((a, r) => a + r.n, 0)
  const sums = new Map<string, bigint>()
  const squares = new Map<string, number>()
  for (const m of money) {
    if (m.from_stage !== stage) continue
    sums.set(m.currency, (sums.get(m.currency) ?? 0n) + toUnits(m.sum))
    squares.set(m.currency, (squares.get(m.currency) ?? 0) + m.sq)
  }
  if (n === 0) return { customers: 0, value: [] }
  const value = currencies.map((currency) => {
    const revenue = fromUnits(sums.get(currency) ?? 0n)
    const mean = divDecimal(revenue, n)
    const m = Number(revenue) / n
    // Customers without a purchase in that currency are zeros of the sample.
    const variance = n > 1 ? Math.max(0, ((squares.get(currency) ?? 0) - n * m * m) / (n - 1)) : 0
    const half = n > 1 ? (Z95 * Math.sqrt(variance)) / Math.sqrt(n) : 0
    return { currency, revenue, mean, low: fixed(Math.max(0, m - half).toFixed(4)), high: fixed((m + half).toFixed(4)) }
  })
  return { customers: n, value }
}

/** GET /v1/lifecycle/value: per stage, revenue per customer over the next horizon, and its back-test. */
export async function lifecycleValue(store: EventStore, o: FlowOptions): Promise<LifecycleValue> {
  const t = stageThresholds(o)
  const h = o.horizonDays * DAY
  const instants = [o.at - 2 * h, o.at - h, o.at]
  const { cells, money } = await flowCells(store, instants, t, o.kind, {}, true)
  const current = cells.filter((c) => c.i === 2)
  const earlier = cells.filter((c) => c.i === 1)
  // Every currency seen in either window, for every stage: a stage whose customers bought nothing in it shows 0.
  const currencies = [...new Set(money.map((m) => m.currency))].sort()
  const definitions = stageDefinitions(t, 'the window\'s start')
  const iso = (ms: number) => new Date(ms).toISOString()
  return {
    asOf: iso(o.at),
    horizonDays: o.horizonDays,
    thresholds: t,
    window: { from: iso(instants[1]!), to: iso(o.at) },
    backtestWindow: { from: iso(instants[0]!), to: iso(instants[1]!) },
    stages: STAGES.map((stage) => {
      const now = stageValues(current, money.filter((m) => m.i === 2), stage, currencies)
      const before = stageValues(earlier, money.filter((m) => m.i === 1), stage, currencies)
      // No prediction without customers in the stage one horizon earlier.
      const backtest = before.value.map((p): BacktestRow => {
        const a = now.value.find((v) => v.currency === p.currency)
        if (!a) return { currency: p.currency, predicted: inCurrency(p.mean, p.currency), actual: null, error: null, relativeError: null, withinInterval: null, customers: before.customers }
        const error = fromUnits(toUnits(p.mean) - toUnits(a.mean))
        return {
          currency: p.currency,
          predicted: inCurrency(p.mean, p.currency),
          actual: inCurrency(a.mean, a.currency),
          error: inCurrency(error, p.currency),
          relativeError: toUnits(a.mean) === 0n ? null : Number(error) / Number(a.mean),
          withinInterval: toUnits(a.mean) >= toUnits(p.low) && toUnits(a.mean) <= toUnits(p.high),
          customers: before.customers,
        }
      })
      // Compared above on the 4-decimal figures; shown in each currency's own decimals.
      const value = now.value.map((v) => ({ currency: v.currency, revenue: inCurrency(v.revenue, v.currency), mean: inCurrency(v.mean, v.currency), low: inCurrency(v.low, v.currency), high: inCurrency(v.high, v.currency) }))
      return { stage, customers: now.customers, definition: definitions[stage], value, backtest }
    }),
    method: FLOW_METHOD.value,
  }
}
