import { queryRows, type EventStore } from '../store/clickhouse.js'
import { wilson, type Interval } from './statistics.js'
import { campaignFacts, num, RECIPIENT_KEY, recipientFacts, type EventWindow } from './sql.js'

/** segment, variant, or attribute:NAME (one attribute of the sends). */
export type Dimension = { kind: 'segment' } | { kind: 'variant' } | { kind: 'attribute'; name: string }

export function parseDimension(by: string): Dimension | null {
  if (by === 'segment' || by === 'variant') return { kind: by }
  const m = /^attribute:([A-Za-z0-9_.\-]{1,128})$/.exec(by)
  return m ? { kind: 'attribute', name: m[1]! } : null
}

/**
 * Fixed SQL per dimension kind: the (dimension index, key) pair of a send, null for segments (a
 * recipient in several segments counts in each: see keyTuples); the attribute name is a bound parameter.
 */
function keyTuple(d: Dimension | null, i: number): string | null {
  if (d === null) return `(${i}, campaign_id)`
  if (d.kind === 'segment') return null
  if (d.kind === 'variant') return `(${i}, variant)`
  return `(${i}, attributes[{attr${i}:String}])`
}

/** Every (dimension index, key) pair a send counts under. */
function keyTuples(d: Dimension | null, i: number): string {
  return keyTuple(d, i) === null ? `arrayMap(x -> (${i}, x), segments)` : `[${keyTuple(d, i)}]`
}

export interface GroupCounts {
  key: string
  sent: number
  uniqueOpeners: number
  uniqueClickers: number
  /** Recipients who opened or clicked: the denominator of click-to-open. */
  engaged: number
}

/**
 * Sent, openers and clickers per group, counted from the sends (recipients who did nothing
 * count in `sent`). `linkId` narrows clicks to one link. `campaigns` of more than one groups
 * by campaign when `d` is null.
 */
export async function groupCounts(
  store: EventStore,
  campaigns: string[],
  d: Dimension | null,
  w: EventWindow,
  opts: { linkId?: string | undefined } = {},
): Promise<GroupCounts[]> {
  return (await groupCountsEach(store, campaigns, [d], w, opts))[0]!
}

/**
 * `groupCounts` for several dimensions at once, one list per dimension in the order given: the
 * sends are joined to the recipients' facts once and each joined row is counted under all its
 * keys, instead of one scan and join per dimension (the campaign page wants segments and variants).
 */
export async function groupCountsEach(
  store: EventStore,
  campaigns: string[],
  dims: Array<Dimension | null>,
  w: EventWindow,
  opts: { linkId?: string | undefined } = {},
): Promise<GroupCounts[][]> {
  return (await groupFacts(store, campaigns, dims, w, opts)).map((rows) => rows.map((r) => r.counts))
}

/**
 * More aggregates over the joined rows, by unqualified column names: `dim` (the dimension's
 * index), `has_send`, `sent_at`, `opens`, `clicks`, `first_open`, `first_click`, and with
 * `everyEvent` the other columns of campaignFacts.
 */
export interface ExtraColumns {
  sql: string
  params: Record<string, unknown>
}

export interface FactsOptions {
  /** Narrows clicks to one link. */
  linkId?: string | undefined
  extra?: ExtraColumns | undefined
  /**
   * Facts from every event of the one campaign (campaignFacts), FULL-joined to the sends: the
   * recipients with events but no send (and the invalid-token recipient '') are rows too, under
   * the null dimension only, which `dims` must then hold. Counts still count recipients with a
   * send; the campaign's stats ride on the null dimension's rows as `extra`, so the campaign
   * page reads the events and the sends once for its headline, bars and timing.
   */
  everyEvent?: boolean | undefined
}

/**
 * The pass behind groupCountsEach, with `extra` aggregates computed in the same GROUP BY (timing
 * rides on it, so the campaign page joins sends and facts once for its bars and its timing).
 */
export async function groupFacts(
  store: EventStore,
  campaigns: string[],
  dims: Array<Dimension | null>,
  w: EventWindow,
  opts: FactsOptions = {},
): Promise<Array<Array<{ counts: GroupCounts; row: Record<string, unknown> }>>> {
  const db = store.db
  const attrs = Object.fromEntries(dims.flatMap((d, i) => (d?.kind === 'attribute' ? [[`attr${i}`, d.name]] : [])))
  const extra = opts.extra ? `,\n            ${opts.extra.sql}` : ''
  let sql: string
  let params: Record<string, unknown>
  if (opts.everyEvent) {
    const everyone = dims.indexOf(null)
    if (campaigns.length !== 1 || everyone < 0 || opts.linkId !== undefined) throw new Error('everyEvent: one campaign, a null dimension, no link')
    const facts = campaignFacts(db, w)
    const keys = `arrayConcat(${dims.map((d, i) => keyTuples(d, i)).join(', ')})`
    sql = `SELECT k.1 AS dim, k.2 AS key, countIf(has_send) AS sent,
            countIf(has_send AND opens > 0) AS openers,
            countIf(has_send AND clicks > 0) AS clickers,
            countIf(has_send AND (opens > 0 OR clicks > 0)) AS engaged${extra}
     FROM (
       SELECT *, {campaign:String} AS campaign_id, arrayJoin(if(has_send, ${keys}, [(${everyone}, campaign_id)])) AS k
       FROM (${facts.sql}) AS f
       FULL JOIN (
         SELECT recipient_id, sent_at, variant, segments${Object.keys(attrs).length ? ', attributes' : ''}, 1 AS has_send
         FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}
       ) AS s USING (recipient_id)
     )
     GROUP BY dim, key
     ORDER BY dim, key`
    params = { campaign: campaigns[0], ...facts.params, ...attrs, ...opts.extra?.params }
  } else {
    const facts = recipientFacts(db, w, 'campaign_id IN {campaigns:Array(String)}', { clickLink: opts.linkId !== undefined })
    // One key per send (a single dimension other than segments) needs no array: the campaigns list
    // and compare group a million sends by campaign.
    const single = dims.length === 1 ? keyTuple(dims[0]!, 0) : null
    const k = single ?? `arrayJoin(arrayConcat(${dims.map((d, i) => keyTuples(d, i)).join(', ')}))`
    sql = `SELECT s.k.1 AS dim, s.k.2 AS key, count() AS sent,
            countIf(f.opens > 0) AS openers,
            countIf(f.clicks > 0) AS clickers,
            countIf(f.opens > 0 OR f.clicks > 0) AS engaged${extra}
     FROM (
       SELECT ${RECIPIENT_KEY} AS h${opts.extra ? ', sent_at, 1 AS has_send' : ''}, ${k} AS k
       FROM ${db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}
     ) AS s
     LEFT JOIN (${facts.sql}) AS f USING (h)
     GROUP BY dim, key
     ORDER BY dim, key`
    params = { campaigns, ...facts.params, ...attrs, ...(opts.linkId !== undefined ? { linkId: opts.linkId } : {}), ...opts.extra?.params }
  }
  const rows = await queryRows<Record<string, unknown> & { dim: number; key: string; sent: number; openers: number; clickers: number; engaged: number }>(store, sql, params)
  const out = dims.map((): Array<{ counts: GroupCounts; row: Record<string, unknown> }> => [])
  for (const r of rows) {
    out[num(r.dim)]!.push({ counts: { key: r.key, sent: num(r.sent), uniqueOpeners: num(r.openers), uniqueClickers: num(r.clickers), engaged: num(r.engaged) }, row: r })
  }
  return out
}

export interface SegmentRow extends GroupCounts {
  openRate: Interval
  clickRate: Interval
  clickToOpenRate: Interval
}

/** Per segment, variant or attribute value: counts and rates with 95% Wilson intervals. */
export async function segmentStats(store: EventStore, campaignId: string, d: Dimension, w: EventWindow, linkId?: string): Promise<SegmentRow[]> {
  return (await segmentStatsEach(store, campaignId, [d], w, linkId))[0]!
}

/** `segmentStats` for several dimensions from one pass over the sends (see groupCountsEach). */
export async function segmentStatsEach(store: EventStore, campaignId: string, dims: Dimension[], w: EventWindow, linkId?: string): Promise<SegmentRow[][]> {
  return (await groupCountsEach(store, [campaignId], dims, w, { linkId })).map(withIntervals)
}

/** Counts → rates with their 95% Wilson intervals. */
export function withIntervals(rows: GroupCounts[]): SegmentRow[] {
  return rows.map((r) => ({
    ...r,
    openRate: wilson(r.uniqueOpeners, r.sent),
    clickRate: wilson(r.uniqueClickers, r.sent),
    clickToOpenRate: wilson(r.uniqueClickers, r.engaged),
  }))
}
