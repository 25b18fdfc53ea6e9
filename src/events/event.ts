/**
 * One tracked event, as journaled by the edge and inserted into ClickHouse.
 * The journal line is tab-separated in the order of JOURNAL_FIELDS, escaped as ClickHouse's
 * TabSeparated format expects, so ClickHouse parses the journal itself (see insert.ts).
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

/**
 * The journal line's fields, in order, with the type ClickHouse reads each as. This list is the
 * journal's format: the writer skips (and counts) lines with another number of fields, so a
 * change to it must come with a drained journal.
 */
export const JOURNAL_FIELDS = [
  ['event_id', 'String'],
  ['type', 'String'],
  ['ts', 'Int64'],
  ['campaign_id', 'String'],
  ['link_id', 'String'],
  ['recipient_id', 'String'],
  ['token_valid', 'UInt8'],
  ['method', 'String'],
  ['ip', 'String'],
  ['user_agent', 'String'],
  ['referer', 'String'],
  ['prefetch', 'String'],
  ['class', 'String'],
  ['reasons', 'String'],
  ['proxy', 'String'],
  ['classifier_version', 'UInt16'],
  ['amount', 'String'],
  ['currency', 'String'],
  ['order_id', 'String'],
  ['extra', 'String'],
] as const

/**
 * Characters of User-Agent and Referer kept in storage. Those headers come from anyone (a forged
 * token included) and may be up to the 16 KB head limit: the classifier reads them whole first;
 * what is stored and parsed afterwards is this much, enough for every real agent string.
 */
export const MAX_STORED_HEADER = 512

/** A header value cut to MAX_STORED_HEADER characters, never in the middle of a surrogate pair. */
export function clipHeader(s: string): string {
  if (s.length <= MAX_STORED_HEADER) return s
  const c = s.charCodeAt(MAX_STORED_HEADER - 1)
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? MAX_STORED_HEADER - 1 : MAX_STORED_HEADER)
}

const NEEDS_ESCAPE = /[\t\n\r\\]/

/** A string as one TabSeparated field (backslash, tab and line breaks escaped): the journal's fields, and any TabSeparated insert. */
export function esc(s: string): string {
  // Most values contain no tab, newline or backslash, and many are short or empty: a loop for
  // those, the regex engine's scan for long ones (user agents, referers) where it is ~2× faster.
  if (s.length < 16) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c === 9 || c === 10 || c === 13 || c === 92) return escapeAll(s)
    }
    return s
  }
  return NEEDS_ESCAPE.test(s) ? escapeAll(s) : s
}

function escapeAll(s: string): string {
  return s.replace(/[\t\n\r\\]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\\\'))
}

/** Undoes `esc`: a journal field as ClickHouse stores it. */
export function unescapeField(s: string): string {
  if (!s.includes('\\')) return s
  return s.replace(/\\([tnr\\])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'))
}

/** Encodes an event as one journal line (JOURNAL_FIELDS in order), newline included. */
export function encodeEvent(e: TrackedEvent): string {
  return (
    esc(e.eventId) + '\t' + e.type + '\t' + e.ts + '\t' + esc(e.campaignId) + '\t' + esc(e.linkId) + '\t' +
    esc(e.recipientId) + '\t' + (e.tokenValid ? '1' : '0') + '\t' + e.method + '\t' + esc(e.ip) + '\t' +
    esc(e.userAgent) + '\t' + esc(e.referer) + '\t' + esc(e.prefetch) + '\t' + e.class + '\t' +
    esc(e.reasons.join(',')) + '\t' + esc(e.proxy) + '\t' + e.classifierVersion + '\t' + esc(e.amount) + '\t' +
    esc(e.currency) + '\t' + esc(e.orderId) + '\t' + esc(e.extra) + '\n'
  )
}

/**
 * An event with the fields it names and every other one blank, User-Agent and Referer clipped
 * (off the hot path: the edge builds its own literal).
 */
export function makeEvent(fields: Pick<TrackedEvent, 'eventId' | 'type' | 'ts' | 'campaignId'> & Partial<TrackedEvent>): TrackedEvent {
  const e: TrackedEvent = {
    linkId: '',
    recipientId: '',
    tokenValid: false,
    method: 'GET',
    ip: '',
    userAgent: '',
    referer: '',
    prefetch: '',
    class: 'human',
    reasons: [],
    proxy: '',
    classifierVersion: 0,
    amount: '',
    currency: '',
    orderId: '',
    extra: '',
    ...fields,
  }
  e.userAgent = clipHeader(e.userAgent)
  e.referer = clipHeader(e.referer)
  return e
}
