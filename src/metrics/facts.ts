import { queryRows, type EventStore } from '../store/clickhouse.js'
import { campaignFacts, num, RECIPIENT_KEY, recipientFacts, type EventWindow } from './sql.js'

/*
 * Recipients' facts (opens, clicks, first times per recipient) joined to the sends and counted
 * per key of a dimension (segment, variant, attribute, or the whole campaign): the one pass that
 * stats, segments, timing, compare and the campaigns list are all computed from.
 */

/** segment, variant, or attribute:NAME (one attribute of the sends). */
export type Dimension = { kind: 'segment' } | { kind: 'variant' } | { kind: 'attribute'; name: string }

export function parseDimension(by: string): Dimension | null {
  if (by === 'segment' || by === 'variant') return { kind: by }
  const m = /^attribute:([A-Za-z0-9_.\-]{1,128})$/.exec(by)
  return m ? { kind: 'attribute', name: m[1]! } : null
}

/** Fixed SQL per dimension kind: the column of a send that its keys come from (the attribute name is a bound parameter). */
function keyColumn(d: Dimension | null, i: number): string {
  if (d === null) return 'campaign_id'
  if (d.kind === 'segment') return 'segments'
  if (d.kind === 'variant') return 'variant'
  return `attributes[{attr${i}:String}] AS a${i}`
}

/** Every (dimension index, key) pair a send counts under, from keyColumn's columns: a recipient in several segments counts in each. */
function keyTuples(d: Dimension | null, i: number): string {
  if (d === null) return `[(${i}, campaign_id)]`
  if (d.kind === 'segment') return `arrayMap(x -> (${i}, x), segments)`
  if (d.kind === 'variant') return `[(${i}, variant)]`
  return `[(${i}, a${i})]`
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
 * More aggregates over the joined rows, in two steps. `inner` aggregates the joined rows (one per
 * send, and with `everyEvent` per recipient without one) by the columns their keys come from,
 * using the unqualified columns `has_send`, `sent_at`, `opens`, `clicks`, `first_open`,
 * `first_click` (and with `everyEvent` `invalid` and the other columns of campaignFacts);
 * `outer` combines those per key, where `dim` is the dimension's index (sumIf, -MergeIf of
 * -State, sumForEachIf of -Resample arrays).
 */
export interface ExtraColumns {
  inner: string
  outer: string
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
 * The pass behind groupCountsEach, with `extra` aggregates computed in the same pass (timing
 * and the campaign's stats ride on it, so the campaign page joins sends and facts once for its
 * headline, bars and timing).
 *
 * Two levels: the joined rows are first aggregated by the columns the keys come from (segments,
 * variant, attribute values, campaign: few distinct combinations), and only those rows are
 * spread over their keys. Spreading each send over its keys first (about 4.5 rows a send on the
 * campaign page) made every aggregate run several times per send: the page's pass cost ~237 ms
 * CPU that way, ~180 ms this way (bench, 100 k sends).
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
  const columns = [...new Set(dims.map((d, i) => keyColumn(d, i)))]
  let keys = `arrayConcat(${dims.map((d, i) => keyTuples(d, i)).join(', ')})`
  let joined: string
  let params: Record<string, unknown>
  let swap = ''
  if (opts.everyEvent) {
    const everyone = dims.indexOf(null)
    if (campaigns.length !== 1 || everyone < 0 || opts.linkId !== undefined) throw new Error('everyEvent: one campaign, a null dimension, no link')
    const facts = campaignFacts(db, w)
    columns.unshift('has_send')
    keys = `if(has_send, ${keys}, [(${everyone}, campaign_id)])`
    joined = `(
       SELECT *, {campaign:String} AS campaign_id
       FROM (${facts.sql}) AS f
       FULL JOIN (
         SELECT cityHash64(recipient_id) AS rh, sent_at, variant, segments${Object.keys(attrs).length ? ', attributes' : ''}, 1 AS has_send
         FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}
       ) AS s USING (rh)
     )`
    params = { campaign: campaigns[0], ...facts.params }
  } else {
    const facts = recipientFacts(db, w, 'campaign_id IN {campaigns:Array(String)}', { clickLink: opts.linkId !== undefined })
    joined = `(
       SELECT ${RECIPIENT_KEY} AS h, campaign_id, sent_at, variant, segments${Object.keys(attrs).length ? ', attributes' : ''}, 1 AS has_send
       FROM ${db}.sends FINAL WHERE campaign_id IN {campaigns:Array(String)}
     ) AS s
     LEFT JOIN (${facts.sql}) AS f USING (h)`
    params = { campaigns, ...facts.params, ...(opts.linkId !== undefined ? { linkId: opts.linkId } : {}) }
    // The facts (the aggregated events) are the hash table and the sends probe it. Left to
    // itself the planner swapped the sides here, building the table from the sends: by=segment
    // 105 -> 37 ms, timing by=segment 142 -> 68 ms, compare of two campaigns 58 -> 41 ms on the
    // bench. (The FULL JOIN of everyEvent is the other way round: its own choice is the faster.)
    swap = ` SETTINGS query_plan_join_swap_table = 'false'`
  }
  const sql = `SELECT k.1 AS dim, k.2 AS key, sum(sent_n) AS sent, sum(openers_n) AS openers, sum(clickers_n) AS clickers, sum(engaged_n) AS engaged${opts.extra ? `,
       ${opts.extra.outer}` : ''}
     FROM (
       SELECT ${columns.join(', ')},
         countIf(has_send) AS sent_n,
         countIf(has_send AND opens > 0) AS openers_n,
         countIf(has_send AND clicks > 0) AS clickers_n,
         countIf(has_send AND (opens > 0 OR clicks > 0)) AS engaged_n${opts.extra ? `,
         ${opts.extra.inner}` : ''}
       FROM ${joined}
       GROUP BY ${columns.map((c) => c.replace(/^.* AS /, '')).join(', ')}
     )
     ARRAY JOIN ${keys} AS k
     GROUP BY dim, key
     ORDER BY dim, key${swap}`
  const rows = await queryRows<Record<string, unknown> & { dim: number; key: string; sent: number; openers: number; clickers: number; engaged: number }>(store, sql, {
    ...params,
    ...attrs,
    ...opts.extra?.params,
  })
  const out = dims.map((): Array<{ counts: GroupCounts; row: Record<string, unknown> }> => [])
  for (const r of rows) {
    out[num(r.dim)]!.push({ counts: { key: r.key, sent: num(r.sent), uniqueOpeners: num(r.openers), uniqueClickers: num(r.clickers), engaged: num(r.engaged) }, row: r })
  }
  return out
}
