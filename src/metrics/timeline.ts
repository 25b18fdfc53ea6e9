import { inArray } from 'drizzle-orm'
import { inCurrency } from '../conversions/money.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'
import type { MetaStore } from '../store/meta.js'
import { links } from '../store/schema.js'
import type { AttributionOptions } from './attribution.js'
import { conversionTouch, type TimelineConversion } from './conversion-touch.js'
import { isoFromCh, num, timeClauses, trafficCondition, type EventWindow } from './sql.js'
import { DomainError } from '../util/errors.js'

export interface TimelineEvent {
  eventId: string
  type: string
  at: string
  campaignId: string
  link: { id: string; url: string | null; label: string | null; position: number | null } | null
  class: string
  reasons: string[]
  proxy: string
  client: { name: string; os: string; device: string }
  amount: string | null
  currency: string | null
  /** Conversions only: the order and the touch (click, or open with attribution=open) that led to it. */
  conversion: (Pick<TimelineConversion, 'orderId' | 'type' | 'attribution'> & { touch: (NonNullable<TimelineConversion['touch']> & { link: TimelineEvent['link'] }) | null }) | null
}

export interface TimelinePage {
  recipientId: string
  traffic: EventWindow['traffic']
  events: TimelineEvent[]
  /** Cursor of the next (older) page; null on the last page. */
  next: string | null
}


/** Cursor: the (ts, event_id) of the last event returned, so pages never skip or repeat events. */
export function encodeCursor(ts: string, eventId: string): string {
  return Buffer.from(JSON.stringify([ts, eventId])).toString('base64url')
}

function decodeCursor(cursor: string): { ts: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(v[0])) {
      return { ts: v[0], id: v[1] }
    }
  } catch {
    /* reported below */
  }
  throw new DomainError('validation_failed', 'query.cursor: not a cursor returned by this endpoint')
}

/**
 * One page of a recipient's events, newest first. It names only the columns of the
 * p_by_recipient projection (migration 0500): ClickHouse then reads that recipient-ordered copy,
 * a few granules, instead of the ~300 granules of the table a recipient's events are spread over.
 */
export function timelinePageQuery(
  db: string,
  recipientId: string,
  w: EventWindow,
  opts: { limit: number; cursor?: string | undefined; campaignId?: string | undefined },
): { sql: string; params: Record<string, unknown> } {
  const time = timeClauses(w)
  const params: Record<string, unknown> = { recipient: recipientId, limit: opts.limit, ...time.params }
  let extra = ''
  if (opts.cursor) {
    const c = decodeCursor(opts.cursor)
    extra += ` AND (ts, event_id) < (toDateTime64({cts:String}, 3, 'UTC'), {cid:String})`
    params.cts = c.ts
    params.cid = c.id
  }
  if (opts.campaignId) {
    extra += ' AND campaign_id = {campaign:String}'
    params.campaign = opts.campaignId
  }
  return {
    sql: `SELECT event_id, type, toString(ts) AS ts_text, campaign_id, link_id, class, reasons, proxy, ua_client, ua_os, ua_device, toString(amount) AS amount, currency, order_id
     FROM ${db}.events
     WHERE recipient_id = {recipient:String} AND ${trafficCondition(w.traffic)}${time.sql}${extra}
     ORDER BY ts DESC, event_id DESC
     LIMIT {limit:UInt32}`,
    params,
  }
}

/**
 * Every event of one recipient across campaigns, newest first. Clicks carry their link's url and
 * label. A conversion's extra, which the projection leaves out, comes from a second query by
 * campaign and event id (the primary key's campaign and type narrow it to a few granules).
 */
export async function recipientTimeline(
  store: EventStore,
  meta: MetaStore,
  recipientId: string,
  w: EventWindow,
  opts: { limit: number; cursor?: string | undefined; campaignId?: string | undefined; attribution?: Pick<AttributionOptions, 'windowMs' | 'model'> },
): Promise<TimelinePage> {
  const q = timelinePageQuery(store.db, recipientId, w, { limit: opts.limit + 1, cursor: opts.cursor, campaignId: opts.campaignId })
  const rows = await queryRows<{
    event_id: string
    type: string
    ts_text: string
    campaign_id: string
    link_id: string
    class: string
    reasons: string[]
    proxy: string
    ua_client: string
    ua_os: string
    ua_device: string
    amount: string
    currency: string
    order_id: string
  }>(store, q.sql, q.params)
  const page = rows.slice(0, opts.limit)
  const conversions = page.filter((r) => r.type === 'conversion')
  const extras = new Map(
    conversions.length === 0
      ? []
      : (
          await queryRows<{ event_id: string; extra: string }>(
            store,
            `SELECT event_id, extra FROM ${store.db}.events
             WHERE campaign_id IN {campaigns:Array(String)} AND type = 'conversion' AND event_id IN {ids:Array(String)}`,
            { campaigns: [...new Set(conversions.map((r) => r.campaign_id))], ids: conversions.map((r) => r.event_id) },
          )
        ).map((r) => [r.event_id, r.extra] as const),
  )
  const touches = new Map(
    page
      .filter((r) => r.type === 'conversion')
      .map((r) => [r.event_id, conversionTouch({ at: Date.parse(r.ts_text.replace(' ', 'T') + 'Z'), campaignId: r.campaign_id, linkId: r.link_id, extra: extras.get(r.event_id) ?? '' }, opts.attribution)] as const),
  )
  const ids = [...new Set([...page.map((r) => r.link_id), ...[...touches.values()].map((t) => t.touch?.linkId ?? '')].filter(Boolean))]
  const found = ids.length ? await meta.db.select().from(links).where(inArray(links.id, ids)) : []
  const byId = new Map(found.map((l) => [l.id, l]))
  const linkOf = (id: string): TimelineEvent['link'] => {
    if (!id) return null
    const l = byId.get(id)
    return { id, url: l?.url ?? null, label: l?.label ?? null, position: l ? num(l.position) : null }
  }
  const kindOf = (extra: string): string => {
    try {
      const k = (JSON.parse(extra) as { kind?: unknown }).kind
      return typeof k === 'string' && k ? k : 'purchase'
    } catch {
      return 'purchase'
    }
  }
  const last = page[page.length - 1]
  return {
    recipientId,
    traffic: w.traffic,
    events: page.map((r) => {
      const t = touches.get(r.event_id)
      return {
        eventId: r.event_id,
        type: r.type,
        at: isoFromCh(r.ts_text) ?? new Date(0).toISOString(),
        campaignId: r.campaign_id,
        link: linkOf(r.link_id),
        class: r.class,
        reasons: r.reasons,
        proxy: r.proxy,
        client: { name: r.ua_client, os: r.ua_os, device: r.ua_device },
        amount: r.type === 'conversion' ? (r.currency ? inCurrency(r.amount, r.currency) : r.amount) : null,
        currency: r.type === 'conversion' ? r.currency : null,
        conversion: t
          ? { orderId: r.order_id, type: kindOf(extras.get(r.event_id) ?? ''), attribution: t.attribution, touch: t.touch ? { ...t.touch, link: linkOf(t.touch.linkId) } : null }
          : null,
      }
    }),
    next: rows.length > opts.limit && last ? encodeCursor(last.ts_text, last.event_id) : null,
  }
}
