import type { IncomingMessage, ServerResponse } from 'node:http'
import { nanoid } from 'nanoid'
import { encodeEvent, type EventType, type TrackedEvent } from '../events/event.js'
import type { Journal } from '../events/journal.js'
import { classify, CLASSIFIER_VERSION } from './classify.js'
import { anonymizeIp, clientIp } from './ip.js'
import type { CachedLink, LinkCache } from './links.js'
import type { TokenCodec } from './token.js'
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
const GIF_HEADERS = Object.entries(GIF_RESPONSE_HEADERS).flat()

const NOT_FOUND_BODY = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not found</title></head>' +
    '<body><h1>Link not found</h1><p>This link is unknown or no longer tracked.</p></body></html>',
)
const NOT_FOUND_HEADERS = [
  'Content-Type', 'text/html; charset=utf-8',
  'Content-Length', String(NOT_FOUND_BODY.length),
  'Cache-Control', 'no-store',
]

const MAX_ID_LENGTH = 128
const MAX_TOKEN_LENGTH = 512
/** Verified tokens kept: a reader's opens and clicks (and the scanners before them) reuse one token. */
const TOKEN_CACHE_SIZE = 50_000
/** Anonymised addresses kept: one per client address seen lately. */
const IP_CACHE_SIZE = 10_000

export interface EdgeOptions {
  journal: Journal
  links: LinkSource
  tokens: TokenCodec
  trustProxy: boolean
  ipV4Prefix: number
  ipV6Prefix: number
  clock?: () => number
  /** The redirect target of a click; the conversions issue decorates it (UTM, click id). */
  location?: (link: CachedLink, event: TrackedEvent) => string
}

export interface EdgeStats {
  unknownCampaigns: number
  invalidTokens: number
  /** Responses by route and status, counted as plain integers on the hot path. */
  click302: number
  click404: number
  open200: number
}

/** What the edge needs of the link cache (a worker's cache is filled by its primary). */
export type LinkSource = Pick<LinkCache, 'link' | 'campaign' | 'lookupLink' | 'lookupCampaign'>

/**
 * The two hot paths, answered on plain node:http before Hono sees the request:
 * GET|HEAD /c/:linkId/:token → 302 to the link's registered URL, and
 * GET|HEAD /o/:campaignId/:token.gif → the GIF. Neither waits for a database: links come
 * from memory, tokens verify themselves, and the response goes out right after the
 * event's journal write (see Journal.append).
 */
export function createEdge(opts: EdgeOptions) {
  const clock = opts.clock ?? Date.now
  const location = opts.location ?? ((l: CachedLink) => l.url)
  const idPrefix = nanoid(8) + '-'
  let seq = 0
  const stats: EdgeStats = { unknownCampaigns: 0, invalidTokens: 0, click302: 0, click404: 0, open200: 0 }
  /** Keyed by the token alone (no concatenation to hash on every click); a hit counts only for its own campaign. */
  const verified = new BoundedMap<{ campaignId: string; recipientId: string }>(TOKEN_CACHE_SIZE)
  const anonymised = new BoundedMap<string>(IP_CACHE_SIZE)

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

  function event(type: EventType, req: IncomingMessage, campaignId: string, linkId: string, recipientId: string | null): TrackedEvent {
    const h = req.headers
    const rawIp = clientIp(req, opts.trustProxy)
    const userAgent = h['user-agent'] ?? ''
    const referer = h['referer'] ?? ''
    const prefetch = prefetchHints(req)
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET'
    const c = classify({ kind: type === 'open' ? 'open' : 'click', method, userAgent, referer, ip: rawIp, prefetch })
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
      ip: anonymise(rawIp),
      userAgent,
      referer,
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

  function redirect(req: IncomingMessage, res: ServerResponse, link: CachedLink, token: string): void {
    const e = event('click', req, link.campaignId, link.id, verify(link.campaignId, token))
    const target = location(link, e)
    opts.journal.append(encodeEvent(e), () => {
      stats.click302++
      res.writeHead(302, ['Location', target, 'Cache-Control', 'no-store', 'Referrer-Policy', 'no-referrer', 'Content-Length', '0'])
      res.end()
    })
  }

  function notFound(res: ServerResponse, isHead: boolean): void {
    stats.click404++
    res.writeHead(404, NOT_FOUND_HEADERS)
    res.end(isHead ? undefined : NOT_FOUND_BODY)
  }

  function click(req: IncomingMessage, res: ServerResponse, rest: string): void {
    const slash = rest.indexOf('/')
    const linkId = slash < 0 ? rest : rest.slice(0, slash)
    const token = slash < 0 ? '' : rest.slice(slash + 1)
    const isHead = req.method === 'HEAD'
    if (!linkId || linkId.length > MAX_ID_LENGTH) return notFound(res, isHead)
    const link = opts.links.link(linkId)
    if (link) return redirect(req, res, link, token)
    // Miss: a link made by another instance since start-up, or an unknown id.
    opts.links.lookupLink(linkId).then(
      (found) => (found ? redirect(req, res, found, token) : notFound(res, isHead)),
      () => notFound(res, isHead),
    )
  }

  function pixel(req: IncomingMessage, res: ServerResponse, rest: string): void {
    const slash = rest.indexOf('/')
    const campaignId = decodeSegment(slash < 0 ? rest : rest.slice(0, slash))
    let token = slash < 0 ? '' : rest.slice(slash + 1)
    if (token.endsWith('.gif')) token = token.slice(0, -4)
    const isHead = req.method === 'HEAD'
    const send = () => {
      stats.open200++
      res.writeHead(200, GIF_HEADERS)
      res.end(isHead ? undefined : GIF)
    }
    const record = () => {
      opts.journal.append(encodeEvent(event('open', req, campaignId, '', verify(campaignId, token))), send)
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

  /** Answers the request if it is a hot path; false hands it to the Hono app. */
  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url
    if (!url || url.charCodeAt(0) !== 47 || url.charCodeAt(2) !== 47) return false
    const kind = url.charCodeAt(1)
    if (kind !== 99 /* c */ && kind !== 111 /* o */) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const q = url.indexOf('?')
    const rest = q < 0 ? url.slice(3) : url.slice(3, q)
    if (kind === 99) click(req, res, rest)
    else pixel(req, res, rest)
    return true
  }

  return { handle, stats }
}

export type Edge = ReturnType<typeof createEdge>

function decodeSegment(s: string): string {
  if (!s.includes('%')) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return ''
  }
}

function prefetchHints(req: IncomingMessage): string {
  const h = req.headers
  const sp = h['sec-purpose']
  const p = h['purpose']
  const xm = h['x-moz']
  if (sp === undefined && p === undefined && xm === undefined) return ''
  const parts: string[] = []
  if (typeof sp === 'string') parts.push('sec-purpose=' + sp)
  if (typeof p === 'string') parts.push('purpose=' + p)
  if (typeof xm === 'string') parts.push('x-moz=' + xm)
  return parts.join(',').slice(0, 200)
}
