import { queryRows, type EventStore } from '../store/clickhouse.js'
import { wilson, type Interval } from './statistics.js'
import { num, recipientFacts, type EventWindow } from './sql.js'

/** segment, variant, or attribute:NAME (one attribute of the sends). */
export type Dimension = { kind: 'segment' } | { kind: 'variant' } | { kind: 'attribute'; name: string }

export function parseDimension(by: string): Dimension | null {
  if (by === 'segment' || by === 'variant') return { kind: by }
  const m = /^attribute:([A-Za-z0-9_.\-]{1,128})$/.exec(by)
  return m ? { kind: 'attribute', name: m[1]! } : null
}

/**
 * Fixed SQL per dimension kind: the array of (dimension index, key) pairs one send counts under
 * (a recipient in several segments counts in each); the attribute name is a bound parameter.
 */
function keysExpression(d: Dimension | null, i: number): string {
  if (d === null) return `[(${i}, campaign_id)]`
  if (d.kind === 'segment') return `arrayMap(x -> (${i}, x), segments)`
  if (d.kind === 'variant') return `[(${i}, variant)]`
  return `[(${i}, attributes[{attr${i}:String}])]`
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
  const db = store.db
  const facts = recipientFacts(db, w, 'campaign_id IN {campaigns:Array(String)}', { clickLink: opts.linkId !== undefined })
  const keys = dims.map((d, i) => keysExpression(d, i))
  const attrs = Object.fromEntries(dims.flatMap((d, i) => (d?.kind === 'attribute' ? [[`attr${i}`, d.name]] : [])))
  const rows = await queryRows<{ dim: number; key: string; sent: number; openers: number; clickers: number; engaged: number }>(
    store,
    `SELECT s.k.1 AS dim, s.k.2 AS key, count() AS sent,
            countIf(f.opens > 0) AS openers,
            countIf(f.clicks > 0) AS clickers,
            countIf(f.opens > 0 OR f.clicks > 0) AS engaged
     FROM (
       SELECT campaign_id, recipient_id, arrayJoin(${keys.length === 1 ? keys[0] : `arrayConcat(${keys.join(', ')})`}) AS k
       FROM ${db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}
     ) AS s
     LEFT JOIN (${facts.sql}) AS f USING (campaign_id, recipient_id)
     GROUP BY dim, key
     ORDER BY dim, key`,
    { campaigns, ...facts.params, ...attrs, ...(opts.linkId !== undefined ? { linkId: opts.linkId } : {}) },
  )
  const out = dims.map((): GroupCounts[] => [])
  for (const r of rows) out[num(r.dim)]!.push({ key: r.key, sent: num(r.sent), uniqueOpeners: num(r.openers), uniqueClickers: num(r.clickers), engaged: num(r.engaged) })
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
  const lists = await groupCountsEach(store, [campaignId], dims, w, { linkId })
  return lists.map((rows) =>
    rows.map((r) => ({
      ...r,
      openRate: wilson(r.uniqueOpeners, r.sent),
      clickRate: wilson(r.uniqueClickers, r.sent),
      clickToOpenRate: wilson(r.uniqueClickers, r.engaged),
    })),
  )
}
