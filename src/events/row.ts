import { parseUserAgent } from '../tracking/classify/parse-ua.js'
import type { TrackedEvent } from './event.js'

/** `YYYY-MM-DD hh:mm:ss.mmm` in UTC: what DateTime64(3) parses on every ClickHouse version. */
export function chDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ')
}

/**
 * The `events` row of a journaled event. Runs in the writer, off the hot path, so the edge
 * never pays for UA parsing; parseUserAgent caches per UA string (bounded LRU).
 */
export function toEventRow(e: TrackedEvent): Record<string, unknown> {
  const ua = parseUserAgent(e.userAgent)
  return {
    event_id: e.eventId,
    type: e.type,
    ts: chDateTime(e.ts),
    campaign_id: e.campaignId,
    link_id: e.linkId,
    recipient_id: e.recipientId,
    token_valid: e.tokenValid,
    method: e.method,
    ip: e.ip,
    user_agent: e.userAgent,
    referer: e.referer,
    prefetch: e.prefetch,
    class: e.class,
    reasons: e.reasons,
    proxy: e.proxy,
    classifier_version: e.classifierVersion,
    ua_client: ua.client,
    ua_os: ua.os,
    ua_device: ua.device,
    amount: e.amount || '0',
    currency: e.currency,
    order_id: e.orderId,
    extra: e.extra,
  }
}

