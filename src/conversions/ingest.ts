import { createHash } from 'node:crypto'
import type { AppDeps } from '../api/context.js'
import { ApiError } from '../api/errors.js'
import { encodeEvent, type TrackedEvent } from '../events/event.js'
import type { Journal } from '../events/journal.js'
import { queryRows } from '../store/clickhouse.js'
import { clickIdCodecFor, type ClickIdPayload } from './click-id.js'

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

/** Same order id, same event id: a replayed or repeated insert is the same row. */
export function conversionEventId(orderId: string): string {
  return 'cv-' + createHash('sha256').update(orderId).digest('base64url').slice(0, 24)
}

/** Orders journaled by this process, remembered until ClickHouse certainly has them (bounded). */
const RECENT_MAX = 200_000
const recentByJournal = new WeakMap<Journal, Map<string, true>>()

function recentOrders(journal: Journal): Map<string, true> {
  let m = recentByJournal.get(journal)
  if (!m) recentByJournal.set(journal, (m = new Map()))
  return m
}

type Deps = Pick<AppDeps, 'events' | 'journal' | 'config' | 'clock'>

export interface RecordOptions {
  /** The API rejects a click id that does not verify (400); the pixel, which nobody reads, stores it unattributed. */
  invalidClickId: 'reject' | 'unattributed'
  method: 'POST' | 'GET'
  userAgent?: string
  referer?: string
  /** Field path prefix of each input in error messages (`body` or `body.conversions`). */
  field: (index: number) => string
}

/**
 * Records conversions, all or nothing: every input is checked first, then the new ones are journaled
 * together and the call returns once the journal has them (durable before the 2xx, like the edge).
 * An order id already recorded, or repeated within the request, is reported as a duplicate.
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
        if (opts.invalidClickId === 'reject') throw new ApiError('validation_failed', `${opts.field(i)}.clickId: not a valid click id (forged, damaged or signed with an unknown secret)`)
        invalid = true
      }
    }
    if (input.amount !== undefined && input.amount !== '0.0000' && !input.currency) {
      throw new ApiError('validation_failed', `${opts.field(i)}.currency: required with a non-zero amount`)
    }
    if (input.at !== undefined && input.at > now + 24 * 3600_000) {
      throw new ApiError('validation_failed', `${opts.field(i)}.at: more than a day in the future`)
    }
    return { input, click, invalid }
  })

  const known = await existingOrders(deps, [...new Set(inputs.map((i) => i.orderId))])
  // Checked and marked with no await in between, so two concurrent requests cannot both journal an order.
  const recent = recentOrders(deps.journal)
  const results: ConversionResult[] = []
  const lines: string[] = []
  for (const { input, click, invalid } of prepared) {
    const eventId = conversionEventId(input.orderId)
    const duplicate = known.has(input.orderId) || recent.has(input.orderId)
    const attribution: ConversionResult['attribution'] = click
      ? { status: 'click', campaignId: click.campaignId, linkId: click.linkId, ...(click.recipientId ? { recipientId: click.recipientId } : {}) }
      : !invalid && input.recipientId
        ? { status: 'recipient', recipientId: input.recipientId, ...(input.campaignId ? { campaignId: input.campaignId } : {}) }
        : { status: 'unattributed', reason: invalid ? 'invalid_click_id' : 'no_identity' }
    results.push({ orderId: input.orderId, eventId, duplicate, attribution })
    if (duplicate) continue
    recent.set(input.orderId, true)
    if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!)
    lines.push(encodeEvent(toEvent(input, eventId, click, invalid, now, opts)))
  }
  if (lines.length) {
    const lostBefore = deps.journal.stats.lost
    await Promise.all(lines.map((l) => deps.journal.appendAsync(l)))
    // The journal drops lines when full or failing and still calls back: never acknowledge those.
    if (deps.journal.stats.lost !== lostBefore) {
      for (const r of results) if (!r.duplicate) recent.delete(r.orderId)
      throw new ApiError('unavailable', 'the event journal is full or failing; nothing was recorded, retry later')
    }
  }
  return results
}

async function existingOrders(deps: Pick<Deps, 'events'>, orderIds: string[]): Promise<Set<string>> {
  if (orderIds.length === 0) return new Set()
  const rows = await queryRows<{ order_id: string }>(
    deps.events,
    `SELECT DISTINCT order_id FROM ${deps.events.db}.events WHERE type = 'conversion' AND order_id IN {orders:Array(String)}`,
    { orders: orderIds },
  )
  return new Set(rows.map((r) => r.order_id))
}

function toEvent(input: ConversionInput, eventId: string, click: ClickIdPayload | null, invalid: boolean, now: number, opts: RecordOptions): TrackedEvent {
  const extra: Record<string, unknown> = { kind: input.type ?? 'purchase' }
  if (click) Object.assign(extra, { via: 'click_id', clickEventId: click.eventId, clickTs: click.ts })
  else if (invalid) Object.assign(extra, { via: 'none', invalidClickId: true })
  else extra.via = input.recipientId ? 'recipient' : 'none'
  if (input.items) extra.items = input.items
  // Row layout read by src/metrics/conversions.ts: link_id set ⇔ attributed by click id;
  // link_id empty and recipient_id set ⇔ attributed at query time (campaign_id, if set, restricts it).
  return {
    eventId,
    type: 'conversion',
    ts: input.at ?? now,
    campaignId: click ? click.campaignId : invalid ? '' : (input.campaignId ?? ''),
    linkId: click ? click.linkId : '',
    recipientId: click ? click.recipientId : invalid ? '' : (input.recipientId ?? ''),
    tokenValid: !invalid && (click ? click.recipientId !== '' : input.recipientId !== undefined),
    method: opts.method,
    ip: '',
    userAgent: opts.userAgent ?? '',
    referer: opts.referer ?? '',
    prefetch: '',
    class: 'human',
    reasons: [],
    proxy: '',
    classifierVersion: 0,
    amount: input.amount ?? '',
    currency: input.currency ?? '',
    orderId: input.orderId,
    extra: JSON.stringify(extra),
  }
}
