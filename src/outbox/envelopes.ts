import { inArray } from 'drizzle-orm'
import { inCurrency } from '../conversions/money.js'
import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import { campaigns, links } from '../store/schema.js'

/** What a receiver subscribes to, and the stored event type each tracked one comes from. */
export const EVENT_TYPES = ['email.opened', 'email.clicked', 'email.unsubscribed', 'conversion.created', 'email.reclassified', 'audience.entered'] as const
export type EventTypeName = (typeof EVENT_TYPES)[number]

const STORED: Partial<Record<EventTypeName, string>> = {
  'email.opened': 'open',
  'email.clicked': 'click',
  'email.unsubscribed': 'unsubscribe',
  'conversion.created': 'conversion',
}
const NAME_OF: Record<string, EventTypeName> = { open: 'email.opened', click: 'email.clicked', unsubscribe: 'email.unsubscribed', conversion: 'conversion.created' }
export const DERIVED_TYPES: ReadonlySet<string> = new Set(['email.reclassified', 'audience.entered'])

export interface EventFilter {
  types: readonly string[]
  /** Empty: every campaign. */
  campaignIds: readonly string[]
  traffic: 'human' | 'machine' | 'all'
  /** verdict: a reclassification the second pass made before the event was settled is not news. */
  settle: 'verdict' | 'edge'
  /** Only events with ts in [from, to] (ms), for a replay. */
  from?: number | undefined
  to?: number | undefined
}

export interface Envelope {
  id: string
  type: string
  timestamp: string
  data: Record<string, unknown>
}

export interface PageEvent {
  seq: number
  envelope: Envelope
}

interface Row {
  src: 'e' | 'd'
  seq: number
  event_id: string
  type: string
  ts_ms: number | string
  campaign_id: string
  link_id: string
  recipient_id: string
  class: string
  reasons: string[]
  proxy: string
  ua_client: string
  ua_os: string
  ua_device: string
  amount: string
  currency: string
  order_id: string
  extra: string
  data: string
}

type Deps = Pick<AppDeps, 'events' | 'meta'>

/**
 * The envelopes of the events with seq in (after, upTo] that pass the filter, in seq order, at most
 * `limit`; `last` is where a cursor may move to: the last one's seq, or `upTo` when fewer than
 * `limit` matched (the rest of the range holds nothing for this filter).
 * Forged-token opens, clicks and unsubscribes are no recipient's and never go out.
 */
export async function readPage(deps: Deps, f: EventFilter, after: number, upTo: number, limit: number): Promise<{ events: PageEvent[]; last: number }> {
  if (upTo <= after) return { events: [], last: after }
  const stored = f.types.map((t) => STORED[t as EventTypeName]).filter((t): t is string => !!t)
  const derived = f.types.filter((t) => DERIVED_TYPES.has(t))
  const db = deps.events.db
  const parts: string[] = []
  if (stored.length > 0) {
    parts.push(`SELECT 'e' AS src, seq, event_id, toString(type) AS type, toUnixTimestamp64Milli(ts) AS ts_ms, campaign_id, link_id, recipient_id,
        toString(class) AS class, CAST(reasons AS Array(String)) AS reasons, toString(proxy) AS proxy, toString(ua_client) AS ua_client,
        toString(ua_os) AS ua_os, toString(ua_device) AS ua_device, toString(amount) AS amount, toString(currency) AS currency, order_id, extra, '' AS data
      FROM ${db}.events
      WHERE seq > {after:UInt64} AND seq <= {upTo:UInt64} AND type IN {stored:Array(String)}
        AND (token_valid OR type = 'conversion')
        AND ({traffic:String} = 'all' OR (class = 'human') = ({traffic:String} = 'human'))
        AND (empty({campaigns:Array(String)}) OR has({campaigns:Array(String)}, campaign_id))
        AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')`)
  }
  if (derived.length > 0) {
    parts.push(`SELECT 'd' AS src, seq, event_id, toString(type) AS type, toUnixTimestamp64Milli(ts) AS ts_ms, campaign_id, '' AS link_id, recipient_id,
        toString(class) AS class, CAST([] AS Array(String)) AS reasons, '' AS proxy, '' AS ua_client, '' AS ua_os, '' AS ua_device, '' AS amount, '' AS currency,
        '' AS order_id, '' AS extra, data
      FROM ${db}.outbox_events
      WHERE seq > {after:UInt64} AND seq <= {upTo:UInt64} AND type IN {derived:Array(String)}
        AND (empty({campaigns:Array(String)}) OR campaign_id = '' OR has({campaigns:Array(String)}, campaign_id))
        AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
        AND (type != 'email.reclassified' OR (
          ({settle:String} = 'edge' OR after_settle = 1)
          AND ({traffic:String} = 'all' OR (class = 'human') = ({traffic:String} = 'human') OR (prev_class = 'human') = ({traffic:String} = 'human'))))`)
  }
  if (parts.length === 0) return { events: [], last: upTo }
  const rows = await queryRows<Row>(
    deps.events,
    `SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY seq LIMIT {limit:UInt32}`,
    { after, upTo, stored, derived, traffic: f.traffic, settle: f.settle, campaigns: [...f.campaignIds], limit, fromMs: f.from ?? 0, toMs: f.to ?? 8.64e15 },
  )
  const events = await envelopes(deps, rows)
  return { events, last: rows.length < limit ? upTo : Number(rows[rows.length - 1]!.seq) }
}

async function envelopes(deps: Deps, rows: Row[]): Promise<PageEvent[]> {
  const tracked = rows.filter((r) => r.src === 'e')
  const linkIds = [...new Set(tracked.filter((r) => r.link_id).map((r) => r.link_id))]
  const campaignIds = [...new Set(tracked.map((r) => r.campaign_id))]
  const recipients = [...new Set(tracked.filter((r) => r.recipient_id).map((r) => r.recipient_id))]
  const [linkRows, campaignRows, sends, firsts] = await Promise.all([
    linkIds.length ? deps.meta.db.select({ id: links.id, url: links.url, label: links.label, position: links.position }).from(links).where(inArray(links.id, linkIds)) : [],
    campaignIds.length ? deps.meta.db.select({ id: campaigns.id, name: campaigns.name }).from(campaigns).where(inArray(campaigns.id, campaignIds)) : [],
    recipients.length ? sendFacts(deps, campaignIds, recipients) : new Map<string, { variant: string; segments: string[] }>(),
    recipients.length ? firstTimes(deps, campaignIds, recipients) : new Map<string, number>(),
  ])
  const linkById = new Map(linkRows.map((l) => [l.id, l]))
  const nameById = new Map(campaignRows.map((c) => [c.id, c.name]))
  return rows.map((r) => {
    const seq = Number(r.seq)
    const timestamp = new Date(Number(r.ts_ms)).toISOString()
    if (r.src === 'd') return { seq, envelope: { id: r.event_id, type: r.type, timestamp, data: JSON.parse(r.data) as Record<string, unknown> } }
    const send = sends.get(r.campaign_id + '\u0000' + r.recipient_id)
    const data: Record<string, unknown> = {
      campaign: { id: r.campaign_id, name: nameById.get(r.campaign_id) ?? null },
      recipientId: r.recipient_id || null,
      variant: send?.variant || null,
      segments: send?.segments ?? [],
    }
    if (r.type === 'conversion') {
      let extra: Record<string, unknown> = {}
      try {
        extra = r.extra ? (JSON.parse(r.extra) as Record<string, unknown>) : {}
      } catch {
        /* a malformed extra is left out */
      }
      const { kind, ...attribution } = extra
      Object.assign(data, { orderId: r.order_id, amount: r.currency ? inCurrency(r.amount, r.currency) : r.amount, currency: r.currency, kind: kind ?? 'purchase', attribution })
    } else {
      const link = r.link_id ? linkById.get(r.link_id) : undefined
      if (r.type === 'click') data.link = link ? { id: link.id, url: link.url, label: link.label, position: link.position } : { id: r.link_id, url: null, label: null, position: null }
      if (r.type !== 'unsubscribe') data.first = r.class === 'human' && firsts.get(r.campaign_id + '\u0000' + r.recipient_id + '\u0000' + r.type) === Number(r.ts_ms)
      Object.assign(data, { class: r.class, reasons: r.reasons, proxy: r.proxy || null, client: { name: r.ua_client || null, os: r.ua_os || null, device: r.ua_device || null } })
    }
    return { seq, envelope: { id: r.event_id, type: NAME_OF[r.type] ?? r.type, timestamp, data } }
  })
}

async function sendFacts(deps: Deps, campaignIds: string[], recipients: string[]): Promise<Map<string, { variant: string; segments: string[] }>> {
  const rows = await queryRows<{ campaign_id: string; recipient_id: string; variant: string; segments: string[] }>(
    deps.events,
    `SELECT campaign_id, recipient_id, toString(variant) AS variant, CAST(segments AS Array(String)) AS segments FROM ${deps.events.db}.sends FINAL
     WHERE campaign_id IN {campaigns:Array(String)} AND recipient_id IN {recipients:Array(String)}`,
    { campaigns: campaignIds, recipients },
  )
  return new Map(rows.map((r) => [r.campaign_id + '\u0000' + r.recipient_id, { variant: r.variant, segments: r.segments }]))
}

/**
 * When each recipient first opened and first clicked each campaign as a person: the shape of the
 * p_recipient_facts projection (min(ts) by campaign, recipient, type, class), so ClickHouse reads
 * the projection's few rows instead of every event of the campaign.
 */
async function firstTimes(deps: Deps, campaignIds: string[], recipients: string[]): Promise<Map<string, number>> {
  const rows = await queryRows<{ campaign_id: string; recipient_id: string; type: string; first_ms: number | string }>(
    deps.events,
    `SELECT campaign_id, recipient_id, type, toUnixTimestamp64Milli(min(ts)) AS first_ms FROM ${deps.events.db}.events
     WHERE campaign_id IN {campaigns:Array(String)} AND recipient_id IN {recipients:Array(String)} AND type IN ('open', 'click') AND class = 'human'
     GROUP BY campaign_id, recipient_id, type`,
    { campaigns: campaignIds, recipients },
  )
  return new Map(rows.map((r) => [r.campaign_id + '\u0000' + r.recipient_id + '\u0000' + r.type, Number(r.first_ms)]))
}
