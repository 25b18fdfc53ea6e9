import type { TrafficClass } from '../events/event.js'
import { parseIPv4, parseIPv6 } from './classify/ip.js'
import { BoundedMap } from '../util/bounded-map.js'
import { type IpRanges, loadIpRanges } from './classify/ranges.js'
import { isPrefetch, isScannerReferer, uaVerdict } from './classify/signatures.js'

export { detectBursts, type BurstEvent, type BurstOptions, type BurstUpdate } from './classify/bursts.js'
export { IpRangeSet } from './classify/ip.js'
export { LruCache } from '../util/lru.js'
export { type DeviceKind, type ParsedUserAgent, parseUserAgent } from './classify/parse-ua.js'
export { type IpRanges, loadIpRanges } from './classify/ranges.js'
export { GMAIL_PREFETCH_UA, type UaVerdict, uaVerdict } from './classify/signatures.js'

/** What the edge knows about a tracking request, before the IP is anonymised. */
export interface RequestSignals {
  kind: 'open' | 'click' | 'unsubscribe'
  method: string
  userAgent: string
  referer: string
  /** Raw client IP (v4 or v6 text). */
  ip: string
  /** Prefetch hints, as stored in the event's `prefetch` field (e.g. "sec-purpose=prefetch"). */
  prefetch: string
}

export interface Classification {
  class: TrafficClass
  reasons: string[]
  proxy: string
}

/**
 * Every reason a classification can carry. Edge rules: head_request, prefetch_header,
 * empty_ua, apple_mpp, gmail_prefetch, link_preview, scanner_ua, crawler_ua,
 * scanner_referer, scanner_ip, bare_ua (a bare `Mozilla/5.0` on a click: MPP only opens).
 * After-the-fact rules (detectBursts): burst, shared_ip_burst, honeypot; and the second pass's
 * too_soon_after_send (a click within seconds of its send, src/classification/second-pass.ts).
 */
export type Reason =
  | 'head_request' | 'prefetch_header' | 'empty_ua' | 'apple_mpp' | 'gmail_prefetch' | 'link_preview'
  | 'scanner_ua' | 'crawler_ua' | 'scanner_referer' | 'scanner_ip' | 'bare_ua'
  | 'burst' | 'shared_ip_burst' | 'honeypot' | 'too_soon_after_send'

/** 1: the first rule set (UA signatures, headers, referer, IP ranges). */
export const CLASSIFIER_VERSION = 1

/** The UA-only part of a classification, per kind, shared by every request with that UA. */
interface UaEntry {
  open: Classification
  click: Classification
}

const UA_CACHE_SIZE = 10_000
const uaCache = new BoundedMap<UaEntry>(UA_CACHE_SIZE)
/** Referers repeat as much as user agents (browsers send the webmail's origin): their verdict is kept too. */
const refererCache = new BoundedMap<boolean>(UA_CACHE_SIZE)

function scannerReferer(referer: string): boolean {
  if (referer === '') return false
  let v = refererCache.get(referer)
  if (v === undefined) {
    v = isScannerReferer(referer)
    refererCache.set(referer, v)
  }
  return v
}

const ranges: IpRanges = loadIpRanges()

export function getIpRanges(): IpRanges {
  return ranges
}

function frozen(cls: TrafficClass, reasons: string[], proxy: string): Classification {
  return Object.freeze({ class: cls, reasons: Object.freeze(reasons) as string[], proxy })
}

function buildEntry(ua: string): UaEntry {
  const v = uaVerdict(ua)
  if (v.reason === '') {
    const human = frozen('human', [], v.proxy)
    return { open: human, click: human }
  }
  if (v.reason === 'crawler_ua') {
    const c = frozen('crawler', ['crawler_ua'], '')
    return { open: c, click: c }
  }
  return {
    open: frozen('machine_open', [v.reason], v.proxy),
    click: frozen('scanner_click', [v.reason === 'apple_mpp' ? 'bare_ua' : v.reason], v.proxy),
  }
}

const v6 = new Uint32Array(4)

/** 'scanner_ip', 'apple_mpp' (opens only) or ''. Parses the address once for both sets. */
function ipReason(ip: string, open: boolean): string {
  if (ip === '') return ''
  let v4 = -1
  if (ip.indexOf(':') < 0) {
    v4 = parseIPv4(ip)
    if (v4 < 0) return ''
  } else {
    if (!parseIPv6(ip, v6)) return ''
    if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) v4 = v6[3]!
  }
  if (v4 >= 0) {
    if (ranges.scanner.has4(v4)) return 'scanner_ip'
    return open && ranges.appleMpp.has4(v4) ? 'apple_mpp' : ''
  }
  if (ranges.scanner.has6(v6)) return 'scanner_ip'
  return open && ranges.appleMpp.has6(v6) ? 'apple_mpp' : ''
}

/**
 * Classifies one tracking request on the hot path; never throws, never drops.
 * The UA part is cached per string (a bounded two-generation map: one lookup per hit);
 * method, prefetch hints, referer and IP are checked per request. The result is shared and
 * frozen when nothing per request applies: copy it before changing it.
 */
export function classify(s: RequestSignals): Classification {
  const ua = s.userAgent
  let entry = uaCache.get(ua)
  if (entry === undefined) {
    entry = buildEntry(ua)
    uaCache.set(ua, entry)
  }
  const open = s.kind === 'open'
  const base = open ? entry.open : entry.click

  const head = s.method.length === 4 && s.method.toUpperCase() === 'HEAD'
  const prefetch = isPrefetch(s.prefetch)
  const referer = scannerReferer(s.referer)
  const ip = ipReason(s.ip, open)
  if (!head && !prefetch && !referer && ip === '') return base

  const reasons = base.reasons.slice()
  if (head) reasons.push('head_request')
  if (prefetch) reasons.push('prefetch_header')
  if (referer) reasons.push('scanner_referer')
  if (ip !== '' && !reasons.includes(ip)) reasons.push(ip)
  const cls: TrafficClass = base.class === 'crawler' ? 'crawler' : open ? 'machine_open' : 'scanner_click'
  return { class: cls, reasons, proxy: base.proxy }
}

/** Empties the per-UA cache (tests, or after swapping rules). */
export function clearClassifierCache(): void {
  uaCache.clear()
  refererCache.clear()
}
