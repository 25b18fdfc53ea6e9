import { createHash } from 'node:crypto'
import { inArray } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { encodeEvent, makeEvent, type TrackedEvent } from '../events/event.js'
import type { Journal } from '../events/journal.js'
import { queryRows } from '../store/clickhouse.js'
import { campaigns } from '../store/schema.js'
import { DomainError, invalid as invalidInput } from '../util/errors.js'
import { clickIdCodecFor, type ClickIdPayload } from '../tracking/click-id.js'

/** A validated conversion (amount canonical, currency checked) as the API and the pixel hand it over. */
export interface ConversionInput {
  orderId: string
  clickId?: string | undefined
  campaignId?: string | undefined
  recipientId?: string | undefined
  amount?: string | undefined
  currency?: string | undefined
  type?: string | undefined
  /** Epoch ms; the receipt time when absent. */
  at?: number | undefined
  items?: unknown[] | undefined
}

export type AttributionStatus = 'click' | 'recipient' | 'unattributed'

export interface ConversionResult {
  orderId: string
  eventId: string
  duplicate: boolean
  attribution: {
    /**
     * click: by its click id, to that click's campaign, link and recipient. recipient: resolved when
     * metrics are queried, to the recipient's last click (or open) within the attribution window.
     * unattributed: stored and counted as such.
     */
    status: AttributionStatus
    campaignId?: string
    linkId?: string
    recipientId?: string
    reason?: 'invalid_click_id' | 'no_identity'
  }
}

/**
 * Who recorded a conversion. `api`: POST /v1/conversions, with an API key. `pixel`: the public
 * /t/conversion.gif, which anyone can call. Their idempotency is kept apart so that a stranger who
 * guesses an order id cannot suppress the shop's authenticated write: an `api` order is a duplicate
 * only of an earlier `api` row; a `pixel` order is a duplicate of any earlier row. When both rows
 * exist, the reports count the `api` one (stored rows tell them apart by method: GET is the pixel).
 */
export type ConversionSource = 'api' | 'pixel'

/** Same order id and source, same event id: a replayed or repeated insert is the same row. */
export function conversionEventId(orderId: string, source: ConversionSource = 'api'): string {
  return 'cv-' + createHash('sha256').update(source === 'api' ? orderId : `pixel:${orderId}`).digest('base64url').slice(0, 24)
}

/**
 * Orders journaled (or being journaled) by this process, remembered until ClickHouse certainly has
 * them (bounded): the strongest source seen for each.
 */
const RECENT_MAX = 200_000
const recentByJournal = new WeakMap<Journal, Map<string, ConversionSource>>()

function recentOrders(journal: Journal): Map<string, ConversionSource> {
  let m = recentByJournal.get(journal)
  if (!m) recentByJournal.set(journal, (m = new Map()))
  return m
}

/** Earliest accepted conversion time: anything before is a client's mistake (year 0001, an epoch 0). */
export const MIN_CONVERSION_TIME = Date.UTC(2000, 0, 1)

type Deps = Pick<AppDeps, 'events' | 'journal' | 'config' | 'clock' | 'writer' | 'meta'>

/** How far back ingest looks for a recipient-only conversion's touches: the longest attribution window a query can ask. */
export const MAX_LOOKBACK_MS = 90 * 86_400_000

/** A touch recorded on a recipient-only conversion; the query-time window decides whether it still counts. */
export interface Touch {
  campaign: string
  link: string
  ts: number
  type: 'click' | 'open'
}

export interface Touches {
  /** The last human click at or before the conversion (within MAX_LOOKBACK_MS; in the named campaign if one was named). */
  lastClick?: Touch
  /** The last human click or open, likewise. */
  lastTouch?: Touch
}

export interface RecordOptions {
  source: ConversionSource
  /** The API rejects a click id that does not verify (400); the pixel, which nobody reads, stores it unattributed. */
  invalidClickId: 'reject' | 'unattributed'
  userAgent?: string
  referer?: string
  /** Field path prefix of each input in error messages (`body` or `body.conversions`). */
  field: (index: number) => string
}

/**
 * Records conversions, all or nothing: every input is checked first, then the new ones are journaled
 * together and the call returns once the journal has them (durable before the 2xx, like the edge).
 * An order id already recorded (see ConversionSource), or repeated within the request, is reported
 * as a duplicate. An order id counts as recorded only once its write succeeded: after any failure
 * (a 5xx) the same request can be sent again and is recorded.
 */
export async function recordConversions(deps: Deps, inputs: ConversionInput[], opts: RecordOptions): Promise<ConversionResult[]> {
  const codec = clickIdCodecFor(deps.config)
  const now = deps.clock()
  const prepared = inputs.map((input, i) => {
    let click: ClickIdPayload | null = null
    let invalid = false
    if (input.clickId !== undefined) {
      click = codec.verify(input.clickId)
      if (!click) {
        if (opts.invalidClickId === 'reject') throw invalidInput(`${opts.field(i)}.clickId: not a valid click id (forged, damaged or signed with an unknown secret)`)
        invalid = true
      }
    }
    if (input.amount !== undefined && input.amount !== '0.0000' && !input.currency) {
      throw invalidInput(`${opts.field(i)}.currency: required with a non-zero amount`)
    }
    if (input.at !== undefined && input.at > now + 24 * 3600_000) {
      throw invalidInput(`${opts.field(i)}.at: more than a day in the future`)
    }
    if (input.at !== undefined && !(input.at >= MIN_CONVERSION_TIME)) {
      throw invalidInput(`${opts.field(i)}.at: before 2000-01-01`)
    }
    return { input, click, invalid }
  })

  await checkCampaigns(deps, prepared.map(({ input, click }) => (click ? undefined : input.campaignId)), opts.field)

  const known = await existingOrders(deps, [...new Set(inputs.map((i) => i.orderId))])
  const touches = await lastTouches(deps, prepared.map(({ input, click, invalid }) => (!click && !invalid && input.recipientId ? { recipientId: input.recipientId, at: input.at ?? now, campaignId: input.campaignId ?? '' } : null)))
  const isDuplicate = (seen: ConversionSource | undefined) => seen !== undefined && (opts.source === 'pixel' || seen === 'api')
  const results: ConversionResult[] = []
  const inThisCall = new Set<string>()
  // One line per result, null for a duplicate; encoded before anything is marked as recorded.
  const lines: Array<string | null> = []
  for (const [i, { input, click, invalid }] of prepared.entries()) {
    const eventId = conversionEventId(input.orderId, opts.source)
    const attribution: ConversionResult['attribution'] = click
      ? { status: 'click', campaignId: click.campaignId, linkId: click.linkId, ...(click.recipientId ? { recipientId: click.recipientId } : {}) }
      : !invalid && input.recipientId
        ? { status: 'recipient', recipientId: input.recipientId, ...(input.campaignId ? { campaignId: input.campaignId } : {}) }
        : { status: 'unattributed', reason: invalid ? 'invalid_click_id' : 'no_identity' }
    const duplicate = isDuplicate(known.get(input.orderId)) || inThisCall.has(input.orderId)
    inThisCall.add(input.orderId)
    results.push({ orderId: input.orderId, eventId, duplicate, attribution })
    lines.push(duplicate ? null : encodeEvent(toEvent(input, eventId, click, invalid, now, opts, touches[i])))
  }
  // Checked and marked with no await in between, so two concurrent requests cannot both journal an
  // order; the marks are taken back if the write fails, so a retry is not refused as a duplicate.
  const recent = recentOrders(deps.journal)
  const marked: Array<[string, ConversionSource | undefined]> = []
  for (const [i, r] of results.entries()) {
    if (r.duplicate) continue
    const seen = recent.get(r.orderId)
    if (isDuplicate(seen)) {
      r.duplicate = true
      lines[i] = null
      continue
    }
    marked.push([r.orderId, seen])
    recent.set(r.orderId, opts.source === 'api' ? 'api' : (seen ?? 'pixel'))
  }
  const unmark = () => {
    for (const [orderId, before] of marked.reverse()) {
      if (before === undefined) recent.delete(orderId)
      else recent.set(orderId, before)
    }
  }
  const todo = lines.filter((l): l is string => l !== null)
  if (todo.length) {
    const lostBefore = deps.journal.stats.lost
    try {
      await Promise.all(todo.map((l) => deps.journal.appendAsync(l)))
    } catch (err) {
      unmark()
      throw err
    }
    // The journal drops lines when full or failing and still calls back: never acknowledge those.
    if (deps.journal.stats.lost !== lostBefore) {
      unmark()
      throw new DomainError('unavailable', 'the event journal is full or failing; nothing was recorded, retry later')
    }
  }
  while (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!)
  return results
}

/**
 * A campaign named without a click id must exist: its conversion would otherwise be stored as the
 * campaign's (campaign_id set) and never be counted anywhere. Refused (400), not stored unattributed:
 * the caller can correct it and send it again. A click id's campaign was ours when it was signed.
 */
async function checkCampaigns(deps: Pick<Deps, 'meta'>, named: Array<string | undefined>, field: (i: number) => string): Promise<void> {
  const ids = [...new Set(named.filter((c): c is string => c !== undefined))]
  if (ids.length === 0) return
  const found = new Set((await deps.meta.db.select({ id: campaigns.id }).from(campaigns).where(inArray(campaigns.id, ids))).map((r) => r.id))
  const i = named.findIndex((c) => c !== undefined && !found.has(c))
  if (i >= 0) throw invalidInput(`${field(i)}.campaignId: no campaign ${JSON.stringify(named[i])}`)
}

/** The strongest source already stored for each order id (api over pixel). */
async function existingOrders(deps: Pick<Deps, 'events'>, orderIds: string[]): Promise<Map<string, ConversionSource>> {
  if (orderIds.length === 0) return new Map()
  const rows = await queryRows<{ order_id: string; api: number | string }>(
    deps.events,
    `SELECT order_id, max(method != 'GET') AS api FROM ${deps.events.db}.events
     WHERE type = 'conversion' AND order_id IN {orders:Array(String)} GROUP BY order_id`,
    { orders: orderIds },
  )
  return new Map(rows.map((r) => [r.order_id, Number(r.api) === 1 ? 'api' : 'pixel']))
}

/**
 * The last click and last touch of each recipient-only conversion, from ClickHouse. Recording them at
 * ingest keeps the campaign metrics cheap: reading every campaign's touches of thousands of recipients at
 * query time took seconds. The writer is flushed first so a click journaled a moment ago is seen.
 */
async function lastTouches(deps: Deps, wanted: Array<{ recipientId: string; at: number; campaignId: string } | null>): Promise<Array<Touches | undefined>> {
  const idx = wanted.flatMap((w, i) => (w ? [i] : []))
  if (idx.length === 0) return wanted.map(() => undefined)
  await deps.writer.flush()
  const ws = idx.map((i) => wanted[i]!)
  const rows = await queryRows<{ i: number; c_campaign: string; c_link: string; c_ts: number; t_campaign: string; t_link: string; t_ts: number; t_type: string }>(
    deps.events,
    `SELECT p.i AS i,
            argMaxIf(e.campaign_id, e.t, e.type = 'click') AS c_campaign, argMaxIf(e.link_id, e.t, e.type = 'click') AS c_link, maxIf(e.t, e.type = 'click') AS c_ts,
            argMax(e.campaign_id, e.t) AS t_campaign, argMax(e.link_id, e.t) AS t_link, max(e.t) AS t_ts, argMax(e.type, e.t) AS t_type
     FROM (SELECT i, {rs:Array(String)}[i] AS rid, {ats:Array(Int64)}[i] AS at, {hints:Array(String)}[i] AS hint
           FROM (SELECT arrayJoin(range(1, {n:UInt32} + 1)) AS i)) AS p
     INNER JOIN (SELECT recipient_id, campaign_id, link_id, type, toUnixTimestamp64Milli(ts) AS t FROM ${deps.events.db}.events
                 WHERE type IN ('click', 'open') AND class = 'human' AND recipient_id IN {rs:Array(String)}
                   AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({to:Int64}, 'UTC')) AS e
       ON e.recipient_id = p.rid
     WHERE e.t <= p.at AND e.t >= p.at - {lookback:Int64} AND (p.hint = '' OR e.campaign_id = p.hint)
     GROUP BY p.i`,
    {
      rs: ws.map((w) => w.recipientId),
      ats: ws.map((w) => w.at),
      hints: ws.map((w) => w.campaignId),
      n: ws.length,
      from: Math.min(...ws.map((w) => w.at)) - MAX_LOOKBACK_MS,
      to: Math.max(...ws.map((w) => w.at)),
      lookback: MAX_LOOKBACK_MS,
    },
  )
  const out: Array<Touches | undefined> = wanted.map((w) => (w ? {} : undefined))
  for (const r of rows) {
    const t: Touches = {}
    if (Number(r.c_ts) > 0) t.lastClick = { campaign: r.c_campaign, link: r.c_link, ts: Number(r.c_ts), type: 'click' }
    t.lastTouch = { campaign: r.t_campaign, link: r.t_type === 'click' ? r.t_link : '', ts: Number(r.t_ts), type: r.t_type === 'click' ? 'click' : 'open' }
    out[idx[Number(r.i) - 1]!] = t
  }
  return out
}

function toEvent(input: ConversionInput, eventId: string, click: ClickIdPayload | null, invalid: boolean, now: number, opts: RecordOptions, touches?: Touches): TrackedEvent {
  const extra: Record<string, unknown> = { kind: input.type ?? 'purchase' }
  if (click) Object.assign(extra, { via: 'click_id', clickEventId: click.eventId, clickTs: click.ts })
  else if (invalid) Object.assign(extra, { via: 'none', invalidClickId: true })
  else extra.via = input.recipientId ? 'recipient' : 'none'
  if (touches) Object.assign(extra, touches)
  if (input.items) extra.items = input.items
  // Row layout read by src/metrics/attribution.ts: link_id set ⇔ attributed by click id;
  // link_id empty and recipient_id set ⇔ attributed by the touches in extra, if the query's window
  // still covers them (campaign_id, if set, is the campaign they were looked for in).
  return makeEvent({
    eventId,
    type: 'conversion',
    ts: input.at ?? now,
    campaignId: click ? click.campaignId : invalid ? '' : (input.campaignId ?? ''),
    linkId: click ? click.linkId : '',
    recipientId: click ? click.recipientId : invalid ? '' : (input.recipientId ?? ''),
    tokenValid: !invalid && (click ? click.recipientId !== '' : input.recipientId !== undefined),
    // The pixel's rows are the GET ones: the reports tell the two sources apart by it.
    method: opts.source === 'pixel' ? 'GET' : 'POST',
    userAgent: opts.userAgent ?? '',
    referer: opts.referer ?? '',
    amount: input.amount ?? '',
    currency: input.currency ?? '',
    orderId: input.orderId,
    extra: JSON.stringify(extra),
  })
}
