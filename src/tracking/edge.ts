import type { IncomingMessage, ServerResponse } from 'node:http'
import { nanoid } from 'nanoid'
import { clipHeader, encodeEvent, MAX_STORED_HEADER, type EventType, type TrackedEvent } from '../events/event.js'
import type { Journal } from '../events/journal.js'
import { classify, CLASSIFIER_VERSION } from './classify.js'
import { anonymizeIp, clientIp } from './ip.js'
import { destinationOf, type CachedLink, type LinkCache } from './links.js'
import type { TokenCodec } from './token.js'
import type { CampaignSettings } from '../store/schema.js'
import { BoundedMap } from '../util/bounded-map.js'

/** The 43-byte transparent 1×1 GIF. */
export const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64')

/** The headers of every tracking GIF (the open pixel here, the conversion pixel in the API): never cached. */
export const GIF_RESPONSE_HEADERS: Record<string, string> = {
  'Content-Type': 'image/gif',
  'Content-Length': String(GIF.length),
  'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
  Pragma: 'no-cache',
  Expires: '0',
}
// Flat [name, value, …] arrays: writeHead takes them as they are, without walking an object.
export const GIF_HEADERS = Object.entries(GIF_RESPONSE_HEADERS).flat()

/** The redirect's headers after Location (the front writes the same ones). */
export const REDIRECT_HEADERS = ['Cache-Control', 'no-store', 'Referrer-Policy', 'no-referrer', 'Content-Length', '0']

export const NOT_FOUND_BODY = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not found</title></head>' +
    '<body><h1>Link not found</h1><p>This link is unknown or no longer tracked.</p></body></html>',
)
export const NOT_FOUND_HEADERS = [
  'Content-Type', 'text/html; charset=utf-8',
  'Content-Length', String(NOT_FOUND_BODY.length),
  'Cache-Control', 'no-store',
]

/**
 * A retired link without a fallback: 410 Gone (the offer is gone for good, which link checkers
 * understand), with a page a browser shows like any other. Constant text: nothing to escape.
 */
export const ENDED_BODY = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    '<title>This offer has ended</title></head><body><h1>This offer has ended</h1>' +
    '<p>The page this link led to is no longer available.</p></body></html>',
)
export const ENDED_HEADERS = [
  'Content-Type', 'text/html; charset=utf-8',
  'Content-Length', String(ENDED_BODY.length),
  'Cache-Control', 'no-store',
]

const MAX_ID_LENGTH = 128
const MAX_TOKEN_LENGTH = 512
/** Verified tokens kept: a reader's opens and clicks (and the scanners before them) reuse one token. */
const TOKEN_CACHE_SIZE = 50_000
/** Anonymised addresses kept: one per client address seen lately. */
const IP_CACHE_SIZE = 10_000
/** Distinct Host values remembered as configured or not. */
const HOST_CACHE_SIZE = 1_000

export interface EdgeOptions {
  journal: Journal
  links: LinkSource
  tokens: TokenCodec
  trustProxy: boolean
  ipV4Prefix: number
  ipV6Prefix: number
  clock?: () => number
  /**
   * The redirect target of a click (decorated: UTM, click id), or null for the "offer ended"
   * page of a retired link without a fallback. Default: destinationOf, undecorated.
   */
  location?: (link: CachedLink, event: TrackedEvent) => string | null
  /** PUBLIC_BASE_URL, read when a Host is first seen: a host the edge answers besides the tracking domains. */
  publicBaseUrl?: () => string
}

export interface EdgeStats {
  unknownCampaigns: number
  invalidTokens: number
  /** Responses by route and status, counted as plain integers on the hot path. */
  click302: number
  click404: number
  /** Clicks on a retired link without a fallback (recorded, answered with the "offer ended" page). */
  click410: number
  /** Hot-path requests whose Host is neither PUBLIC_BASE_URL's nor a tracking domain (answered as any other). */
  unknownHosts: number
  open200: number
  /** Hot-path requests read and answered by the raw-socket front (the rest went through node:http). */
  frontAnswers: number
  /** Connections the front handed to node:http (their first request was not a hot path it accepts). */
  frontHandOffs: number
}

/** What the edge needs of the link cache (a worker's cache is filled by its primary). */
export type LinkSource = Pick<LinkCache, 'link' | 'campaign' | 'lookupLink' | 'lookupCampaign' | 'domains'>

/**
 * A hot-path request, as read by node:http (edge.handle) or by the raw-socket front
 * (src/tracking/front.ts): only what the edge records.
 */
export interface HotRequest {
  method: 'GET' | 'HEAD'
  /** 99 for /c/ (click), 111 for /o/ (open). */
  kind: number
  /** The path after "/c/" or "/o/", query string removed. */
  rest: string
  userAgent: string
  referer: string
  /** Prefetch hints (Sec-Purpose, Purpose, X-Moz), see prefetchHints. */
  prefetch: string
  /** The client's address (X-Forwarded-For already applied when the proxy is trusted). */
  ip: string
  /** The Host header as sent ('' when absent). */
  host: string
}

/** How the edge answers; HEAD is the reply's business (no body). */
export interface HotReply {
  redirect(location: string): void
  gif(): void
  notFound(): void
  /** The "offer ended" page (410) of a retired link without a fallback. */
  offerEnded(): void
}

/**
 * The two hot paths, answered on plain node:http before Hono sees the request:
 * GET|HEAD /c/:linkId/:token → 302 to the link's registered URL, and
 * GET|HEAD /o/:campaignId/:token.gif → the GIF. Neither waits for a database: links come
 * from memory, tokens verify themselves, and the response goes out right after the
 * event's journal write (see Journal.append).
 */
export function createEdge(opts: EdgeOptions) {
  const clock = opts.clock ?? Date.now
  // The campaign is looked up only for a retired link (its fallback setting).
  const location = opts.location ?? ((l: CachedLink) => (l.disabled ? destinationOf(l, opts.links.campaign(l.campaignId)?.settings) : l.url))
  const idPrefix = nanoid(8) + '-'
  let seq = 0
  const stats: EdgeStats = { unknownCampaigns: 0, invalidTokens: 0, click302: 0, click404: 0, click410: 0, unknownHosts: 0, open200: 0, frontAnswers: 0, frontHandOffs: 0 }
  /** Keyed by the token alone (no concatenation to hash on every click); a hit counts only for its own campaign. */
  const verified = new BoundedMap<{ campaignId: string; recipientId: string }>(TOKEN_CACHE_SIZE)
  const anonymised = new BoundedMap<string>(IP_CACHE_SIZE)
  /** Host header values seen → configured or not; emptied when the set of tracking domains changes. */
  const hostSeen = new Map<string, boolean>()
  let hostsOf: ReadonlySet<string> | undefined

  function knownHost(raw: string): boolean {
    const domains = opts.links.domains
    if (domains !== hostsOf) {
      hostSeen.clear()
      hostsOf = domains
    }
    let known = hostSeen.get(raw)
    if (known === undefined) {
      known = isConfiguredHost(raw, domains, opts.publicBaseUrl?.())
      // Bounded: a client can send any Host; forgetting only costs the next check.
      if (hostSeen.size >= HOST_CACHE_SIZE) hostSeen.clear()
      hostSeen.set(raw, known)
    }
    return known
  }

  /** HMAC check, cached once valid (forged tokens never enter the cache). */
  function verify(campaignId: string, token: string): string | null {
    if (token.length > MAX_TOKEN_LENGTH) return null
    const hit = verified.get(token)
    if (hit !== undefined && hit.campaignId === campaignId) return hit.recipientId
    const recipientId = opts.tokens.verify(campaignId, token)
    if (recipientId !== null) verified.set(token, { campaignId, recipientId })
    return recipientId
  }

  function anonymise(ip: string): string {
    let a = anonymised.get(ip)
    if (a === undefined) {
      a = anonymizeIp(ip, opts.ipV4Prefix, opts.ipV6Prefix)
      anonymised.set(ip, a)
    }
    return a
  }

  function event(type: EventType, r: HotRequest, campaignId: string, linkId: string, recipientId: string | null): TrackedEvent {
    const { userAgent, referer, prefetch, method } = r
    const c = classify({ kind: type === 'open' ? 'open' : 'click', method, userAgent, referer, ip: r.ip, prefetch })
    if (recipientId === null) stats.invalidTokens++
    return {
      eventId: idPrefix + (seq++).toString(36),
      type,
      ts: clock(),
      campaignId,
      linkId,
      recipientId: recipientId ?? '',
      tokenValid: recipientId !== null,
      method,
      ip: anonymise(r.ip),
      // Classified whole above, stored clipped: one length compare on the usual short header.
      userAgent: userAgent.length > MAX_STORED_HEADER ? clipHeader(userAgent) : userAgent,
      referer: referer.length > MAX_STORED_HEADER ? clipHeader(referer) : referer,
      prefetch,
      class: c.class,
      reasons: c.reasons,
      proxy: c.proxy,
      classifierVersion: CLASSIFIER_VERSION,
      amount: '',
      currency: '',
      orderId: '',
      extra: '',
    }
  }

  /** A changed link's click `extra`, made once per link object (a change brings a new one) and campaign settings. */
  const extras = new Map<string, { link: CachedLink; settings: CampaignSettings | undefined; extra: string }>()
  function extraOf(link: CachedLink): string {
    // Only a retired link's destination depends on the campaign (its fallbackUrl setting).
    const settings = link.disabled ? opts.links.campaign(link.campaignId)?.settings : undefined
    let x = extras.get(link.id)
    if (x === undefined || x.link !== link || x.settings !== settings) {
      x = { link, settings, extra: clickExtra(destinationOf(link, settings)) }
      extras.set(link.id, x)
    }
    return x.extra
  }

  function redirect(r: HotRequest, reply: HotReply, link: CachedLink, token: string): void {
    const e = event('click', r, link.campaignId, link.id, verify(link.campaignId, token))
    // A changed link's click says where it went (byUrl counts it there); an unchanged one went to
    // the URL it was created with, which the link row keeps: nothing to add to the event.
    if (link.version) e.extra = extraOf(link)
    const target = location(link, e)
    opts.journal.append(encodeEvent(e), () => {
      if (target === null) {
        stats.click410++
        reply.offerEnded()
      } else {
        stats.click302++
        reply.redirect(target)
      }
    })
  }

  function notFound(reply: HotReply): void {
    stats.click404++
    reply.notFound()
  }

  function click(r: HotRequest, reply: HotReply): void {
    const rest = r.rest
    const slash = rest.indexOf('/')
    const linkId = slash < 0 ? rest : rest.slice(0, slash)
    const token = slash < 0 ? '' : rest.slice(slash + 1)
    if (!linkId || linkId.length > MAX_ID_LENGTH) return notFound(reply)
    const link = opts.links.link(linkId)
    if (link) return redirect(r, reply, link, token)
    // Miss: a link made by another instance since start-up, or an unknown id.
    opts.links.lookupLink(linkId).then(
      (found) => (found ? redirect(r, reply, found, token) : notFound(reply)),
      () => notFound(reply),
    )
  }

  function pixel(r: HotRequest, reply: HotReply): void {
    const rest = r.rest
    const slash = rest.indexOf('/')
    const campaignId = decodeSegment(slash < 0 ? rest : rest.slice(0, slash))
    let token = slash < 0 ? '' : rest.slice(slash + 1)
    if (token.endsWith('.gif')) token = token.slice(0, -4)
    const send = () => {
      stats.open200++
      reply.gif()
    }
    const record = () => {
      opts.journal.append(encodeEvent(event('open', r, campaignId, '', verify(campaignId, token))), send)
    }
    if (!campaignId || campaignId.length > MAX_ID_LENGTH) return send()
    if (opts.links.campaign(campaignId)) return record()
    opts.links.lookupCampaign(campaignId).then(
      (c) => {
        if (c) return record()
        // An image must always load; a pixel of an unknown campaign is not an event of ours.
        stats.unknownCampaigns++
        send()
      },
      () => send(),
    )
  }

  /** Answers a hot-path request read by either reader. */
  function serve(r: HotRequest, reply: HotReply): void {
    if (!knownHost(r.host)) stats.unknownHosts++
    if (r.kind === 99) click(r, reply)
    else pixel(r, reply)
  }

  /** node:http's reading: answers the request if it is a hot path; false hands it to the Hono app. */
  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url
    if (!url || url.charCodeAt(0) !== 47 || url.charCodeAt(2) !== 47) return false
    const kind = url.charCodeAt(1)
    if (kind !== 99 /* c */ && kind !== 111 /* o */) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const q = url.indexOf('?')
    const h = req.headers
    const method = req.method
    serve(
      {
        method,
        kind,
        rest: q < 0 ? url.slice(3) : url.slice(3, q),
        userAgent: h['user-agent'] ?? '',
        referer: h['referer'] ?? '',
        prefetch: prefetchHints(header(h['sec-purpose']), header(h['purpose']), header(h['x-moz'])),
        ip: clientIp(req, opts.trustProxy),
        host: h.host ?? '',
      },
      new NodeReply(res, method === 'HEAD'),
    )
    return true
  }

  return { handle, serve, stats, trustProxy: opts.trustProxy }
}

export type Edge = ReturnType<typeof createEdge>

/** node:http's answers to a hot-path request: one object per request rather than a closure per kind of answer. */
class NodeReply implements HotReply {
  constructor(
    private readonly res: ServerResponse,
    private readonly head: boolean,
  ) {}

  redirect(target: string): void {
    this.res.writeHead(302, ['Location', target, ...REDIRECT_HEADERS])
    this.res.end()
  }

  gif(): void {
    this.res.writeHead(200, GIF_HEADERS)
    this.res.end(this.head ? undefined : GIF)
  }

  notFound(): void {
    this.res.writeHead(404, NOT_FOUND_HEADERS)
    this.res.end(this.head ? undefined : NOT_FOUND_BODY)
  }

  offerEnded(): void {
    this.res.writeHead(410, ENDED_HEADERS)
    this.res.end(this.head ? undefined : ENDED_BODY)
  }
}

/** The `extra` of a click on a changed link: the destination it was sent to ('' for the "offer ended" page). */
export function clickExtra(destination: string | null): string {
  return JSON.stringify({ to: destination ?? '' })
}

/** Whether a Host header names PUBLIC_BASE_URL's host or a tracking domain (any case, any port, a trailing dot). */
export function isConfiguredHost(raw: string, domains: ReadonlySet<string> | undefined, publicBaseUrl: string | undefined): boolean {
  if (!raw) return false
  const host = raw.toLowerCase()
  let base: URL | null = null
  try {
    base = publicBaseUrl ? new URL(publicBaseUrl) : null
  } catch {
    base = null
  }
  if (base && host === base.host) return true
  let name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '')
  if (name.endsWith('.')) name = name.slice(0, -1)
  return (base !== null && name === base.hostname) || (domains !== undefined && domains.has(name))
}

function decodeSegment(s: string): string {
  if (!s.includes('%')) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return ''
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** What a browser says of a prefetch (Sec-Purpose, Purpose, X-Moz), recorded for the classifier. */
export function prefetchHints(secPurpose: string | undefined, purpose: string | undefined, xMoz: string | undefined): string {
  if (secPurpose === undefined && purpose === undefined && xMoz === undefined) return ''
  const parts: string[] = []
  if (secPurpose !== undefined) parts.push('sec-purpose=' + secPurpose)
  if (purpose !== undefined) parts.push('purpose=' + purpose)
  if (xMoz !== undefined) parts.push('x-moz=' + xMoz)
  return parts.join(',').slice(0, 200)
}
