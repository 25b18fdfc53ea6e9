/**
 * One tracked event, as journaled by the edge and inserted into ClickHouse.
 * The journal line is tab-separated in the field order below: cheap to write on
 * the hot path, and new fields are appended at the end so older lines still decode.
 */
export type EventType = 'open' | 'click' | 'unsubscribe' | 'conversion'

export type TrafficClass = 'human' | 'machine_open' | 'scanner_click' | 'crawler'

export interface TrackedEvent {
  eventId: string
  type: EventType
  /** Milliseconds since the epoch. */
  ts: number
  campaignId: string
  /** Empty for events without a link (opens, unsubscribes). */
  linkId: string
  /** The sender's opaque recipient id; empty when the token was forged or damaged. */
  recipientId: string
  tokenValid: boolean
  /** GET, HEAD or POST. */
  method: string
  /** Anonymised client address (see tracking/ip.ts). */
  ip: string
  userAgent: string
  referer: string
  /** Prefetch hints seen on the request (`sec-purpose`, `purpose`, `x-moz`), joined by ','. */
  prefetch: string
  class: TrafficClass
  reasons: string[]
  /** Mail proxy a human open came through (gmail, yahoo), else empty. */
  proxy: string
  classifierVersion: number
  /** Conversion fields: decimal amount kept as a string so money never goes through a float. */
  amount: string
  currency: string
  orderId: string
  /** Free-form JSON for fields a type needs and the table does not name. */
  extra: string
}

const FIELD_COUNT = 20

function esc(s: string): string {
  // Fast path: most values never contain a tab, newline or backslash.
  if (!/[\t\n\r\\]/.test(s)) return s
  return s.replace(/[\t\n\r\\]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\\\'))
}

function unesc(s: string): string {
  if (!s.includes('\\')) return s
  return s.replace(/\\([tnr\\])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'))
}

/** Encodes an event as one journal line, newline included. */
export function encodeEvent(e: TrackedEvent): string {
  return (
    esc(e.eventId) + '\t' + e.type + '\t' + e.ts + '\t' + esc(e.campaignId) + '\t' + esc(e.linkId) + '\t' +
    esc(e.recipientId) + '\t' + (e.tokenValid ? '1' : '0') + '\t' + e.method + '\t' + esc(e.ip) + '\t' +
    esc(e.userAgent) + '\t' + esc(e.referer) + '\t' + esc(e.prefetch) + '\t' + e.class + '\t' +
    esc(e.reasons.join(',')) + '\t' + esc(e.proxy) + '\t' + e.classifierVersion + '\t' + esc(e.amount) + '\t' +
    esc(e.currency) + '\t' + esc(e.orderId) + '\t' + esc(e.extra) + '\n'
  )
}

/** Decodes one journal line (without its newline); null when the line is torn or not an event. */
export function decodeEvent(line: string): TrackedEvent | null {
  const f = line.split('\t')
  if (f.length < FIELD_COUNT) return null
  const ts = Number(f[2])
  const type = f[1] as EventType
  if (!Number.isFinite(ts) || !f[0]) return null
  if (type !== 'open' && type !== 'click' && type !== 'unsubscribe' && type !== 'conversion') return null
  const reasons = unesc(f[13]!)
  return {
    eventId: unesc(f[0]!),
    type,
    ts,
    campaignId: unesc(f[3]!),
    linkId: unesc(f[4]!),
    recipientId: unesc(f[5]!),
    tokenValid: f[6] === '1',
    method: f[7]!,
    ip: unesc(f[8]!),
    userAgent: unesc(f[9]!),
    referer: unesc(f[10]!),
    prefetch: unesc(f[11]!),
    class: f[12] as TrafficClass,
    reasons: reasons ? reasons.split(',') : [],
    proxy: unesc(f[14]!),
    classifierVersion: Number(f[15]) || 0,
    amount: unesc(f[16]!),
    currency: unesc(f[17]!),
    orderId: unesc(f[18]!),
    extra: unesc(f[19]!),
  }
}
