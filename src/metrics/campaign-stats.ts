import { queryRows, type EventStore } from '../store/clickhouse.js'
import { groupFacts } from './facts.js'
import { classCondition, isoFromCh, num, ratio, timeClauses, type EventWindow, type Traffic } from './sql.js'

export interface Rate {
  value: number
  numerator: number
  denominator: number
  definition: string
}

export interface Delay {
  /** Recipients measured (those with a send row and at least one such event). */
  count: number
  medianSeconds: number | null
  p90Seconds: number | null
}

export interface MachineBreakdown {
  total: number
  byReason: Record<string, number>
}

export interface CampaignStats {
  campaignId: string
  traffic: EventWindow['traffic']
  sent: number
  opens: { total: number; unique: number; rate: number }
  clicks: { total: number; unique: number; rate: number; clickToOpenRate: number }
  unsubscribes: { total: number; unique: number; rate: number }
  rates: { open: Rate; click: Rate; clickToOpen: Rate; unsubscribe: Rate }
  firstEventAt: string | null
  lastEventAt: string | null
  timeToFirstOpen: Delay
  timeToFirstClick: Delay
  machine: { opens: MachineBreakdown; clicks: MachineBreakdown }
  invalidToken: { opens: number; clicks: number }
}

/**
 * The stats' per-recipient aggregates over groupFacts' everyEvent rows (one per recipient with an
 * event or a send, so sums are the totals and counts are the uniques; the invalid tokens are the
 * recipient '' row, in the totals only with traffic=all), combined on the null dimension's rows
 * (`everyone`, its index). What needs no recipient (all events, first and last, machine traffic)
 * is campaignTotals'.
 */
export function statsColumns(everyone: number, traffic: Traffic): { inner: string; outer: string } {
  // A forged token is nobody's open or click: out of the totals unless every stored event is asked for.
  const sum = (col: string) => (traffic === 'all' ? `sum(${col})` : `sumIf(${col}, NOT invalid)`)
  const delay = (kind: 'open' | 'click') => `greatest(0, toUnixTimestamp64Milli(first_${kind}) - toUnixTimestamp64Milli(sent_at)) / 1000`
  const parts: Array<[string, string, string]> = [
    // [name, inner aggregate, how the outer level combines it]
    ['opens_total', sum('opens'), 'sumIf'],
    ['opens_unique', `countIf(opens > 0 AND NOT invalid)`, 'sumIf'],
    ['clicks_total', sum('clicks'), 'sumIf'],
    ['clicks_unique', `countIf(clicks > 0 AND NOT invalid)`, 'sumIf'],
    ['engaged_unique', `countIf((opens > 0 OR clicks > 0) AND NOT invalid)`, 'sumIf'],
    ['unsub_total', sum('unsubscribes'), 'sumIf'],
    ['unsub_unique', `countIf(unsubscribes > 0 AND NOT invalid)`, 'sumIf'],
    ['invalid_opens', `sumIf(opens, invalid)`, 'sumIf'],
    ['invalid_clicks', `sumIf(clicks, invalid)`, 'sumIf'],
    ['open_n', 'countIf(opens > 0 AND has_send)', 'sumIf'],
    ['click_n', 'countIf(clicks > 0 AND has_send)', 'sumIf'],
  ]
  const on = `dim = ${everyone}`
  return {
    inner: [
      ...parts.map(([name, agg]) => `${agg} AS st_${name}_`),
      `quantilesExactInclusiveIfState(0.5, 0.9)(${delay('open')}, opens > 0 AND has_send) AS st_open_q_`,
      `quantilesExactInclusiveIfState(0.5, 0.9)(${delay('click')}, clicks > 0 AND has_send) AS st_click_q_`,
    ].join(',\n         '),
    outer: [
      ...parts.map(([name, , combine]) => `${combine}(st_${name}_, ${on}) AS st_${name}`),
      `quantilesExactInclusiveIfMergeIf(0.5, 0.9)(st_open_q_, ${on}) AS st_open_q`,
      `quantilesExactInclusiveIfMergeIf(0.5, 0.9)(st_click_q_, ${on}) AS st_click_q`,
    ].join(',\n       '),
  }
}

/** A campaign's figures that need no recipient: events of the traffic, first and last, machine opens and clicks by reason. */
export interface CampaignTotals {
  events: number
  first_at: string
  last_at: string
  machine_opens: number
  machine_clicks: number
  /** sumMap's (reasons, counts) of the machine opens and clicks. */
  open_reasons: [string[], number[]]
  click_reasons: [string[], number[]]
}

/**
 * campaignTotals' query: the inner GROUP BY (type, class, reasons) with count(), min(ts) and
 * max(ts) is what p_campaign_classes stores (migration 0610), so without a time window it reads a
 * handful of rows per part instead of the campaign's events. The machine side ignores `traffic`.
 */
export function campaignTotalsSql(db: string, w: EventWindow): { sql: string; params: Record<string, string> } {
  const t = classCondition(w.traffic)
  const time = timeClauses(w)
  const reasons = (type: 'open' | 'click') =>
    `sumMapIf(reasons, arrayResize(CAST([], 'Array(UInt64)'), length(reasons), n), type = '${type}' AND class != 'human') AS ${type}_reasons`
  return {
    sql: `SELECT sumIf(n, ${t}) AS events,
            toString(minIf(lo, ${t})) AS first_at,
            toString(maxIf(hi, ${t})) AS last_at,
            sumIf(n, type = 'open' AND class != 'human') AS machine_opens,
            sumIf(n, type = 'click' AND class != 'human') AS machine_clicks,
            ${reasons('open')},
            ${reasons('click')}
     FROM (
       SELECT type, class, reasons, count() AS n, min(ts) AS lo, max(ts) AS hi
       FROM ${db}.events
       WHERE campaign_id = {campaign:String}${time.sql}
       GROUP BY type, class, reasons
     )`,
    params: time.params,
  }
}

export async function campaignTotals(store: EventStore, campaignId: string, w: EventWindow): Promise<CampaignTotals | undefined> {
  const q = campaignTotalsSql(store.db, w)
  return (await queryRows<CampaignTotals>(store, q.sql, { campaign: campaignId, ...q.params }))[0]
}

/**
 * Headline numbers of a campaign. Totals count the events of the selected traffic (forged and
 * damaged tokens only with traffic=all, and always under invalidToken); uniques and delays count
 * recipients (exact, invalid tokens left out).
 * The machine breakdown ignores `traffic`: it is always the machine side, by reason.
 */
export async function campaignStats(store: EventStore, campaignId: string, w: EventWindow = { traffic: 'human' }): Promise<CampaignStats> {
  // Per recipient first (campaignFacts), joined to the sends for sent and the delays.
  const [[everyone], totals] = await Promise.all([
    groupFacts(store, [campaignId], [null], w, { everyEvent: true, extra: { ...statsColumns(0, w.traffic), params: {} } }),
    campaignTotals(store, campaignId, w),
  ])
  return shapeStats(campaignId, w, everyone?.[0]?.row, totals)
}

/** CampaignStats from statsColumns' row (undefined: no event and no send) and campaignTotals' row. */
export function shapeStats(campaignId: string, w: EventWindow, row: Record<string, unknown> | undefined, totals: CampaignTotals | undefined): CampaignStats {
  const a = row ?? {}
  const sent = num(a.sent)
  const openers = num(a.st_opens_unique)
  const clickers = num(a.st_clicks_unique)
  const engaged = num(a.st_engaged_unique)
  const unsub = num(a.st_unsub_unique)
  const breakdown = (byReason: [string[], number[]] | undefined, total: number): MachineBreakdown => {
    const [reasons = [], counts = []] = byReason ?? []
    const rows = reasons.map((reason, i) => ({ reason, n: num(counts[i]) })).filter((r) => r.n > 0)
    return { total, byReason: Object.fromEntries(rows.sort((x, y) => y.n - x.n || x.reason.localeCompare(y.reason)).map((r) => [r.reason, r.n])) }
  }
  const delay = (n: number, q: unknown): Delay => ({
    count: n,
    medianSeconds: n > 0 && Array.isArray(q) ? num(q[0]) : null,
    p90Seconds: n > 0 && Array.isArray(q) ? num(q[1]) : null,
  })
  const hasEvents = num(totals?.events) > 0
  const rates = {
    open: { value: ratio(openers, sent), numerator: openers, denominator: sent, definition: 'unique openers / sent' },
    click: { value: ratio(clickers, sent), numerator: clickers, denominator: sent, definition: 'unique clickers / sent' },
    clickToOpen: {
      value: ratio(clickers, engaged),
      numerator: clickers,
      denominator: engaged,
      definition: 'unique clickers / unique recipients who opened or clicked (a click proves the message was opened)',
    },
    unsubscribe: { value: ratio(unsub, sent), numerator: unsub, denominator: sent, definition: 'unique unsubscribers / sent' },
  }
  return {
    campaignId,
    traffic: w.traffic,
    sent,
    opens: { total: num(a.st_opens_total), unique: openers, rate: rates.open.value },
    clicks: { total: num(a.st_clicks_total), unique: clickers, rate: rates.click.value, clickToOpenRate: rates.clickToOpen.value },
    unsubscribes: { total: num(a.st_unsub_total), unique: unsub, rate: rates.unsubscribe.value },
    rates,
    firstEventAt: hasEvents ? isoFromCh(totals!.first_at) : null,
    lastEventAt: hasEvents ? isoFromCh(totals!.last_at) : null,
    timeToFirstOpen: delay(num(a.st_open_n), a.st_open_q),
    timeToFirstClick: delay(num(a.st_click_n), a.st_click_q),
    machine: { opens: breakdown(totals?.open_reasons, num(totals?.machine_opens)), clicks: breakdown(totals?.click_reasons, num(totals?.machine_clicks)) },
    invalidToken: { opens: num(a.st_invalid_opens), clicks: num(a.st_invalid_clicks) },
  }
}
