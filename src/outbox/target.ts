import { lookup as dnsLookup } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { invalid } from '../util/errors.js'

/** Addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE=1: loopback, private, link-local (cloud metadata), shared, reserved. */
const forbidden = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) forbidden.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32]] as const) {
  forbidden.addSubnet(net, bits, 'ipv6')
}

/** IPv4 inside an IPv6 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96): checked as the IPv4 it reaches. */
function embeddedV4(addr: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(addr)
  if (m) return m[1]!
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(addr)
  if (!hex) return null
  const hi = parseInt(hex[1]!, 16)
  const lo = parseInt(hex[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

export function isForbiddenAddress(addr: string): boolean {
  const family = isIP(addr)
  if (family === 4) return forbidden.check(addr, 'ipv4')
  if (family === 6) {
    const v4 = embeddedV4(addr)
    return v4 ? forbidden.check(v4, 'ipv4') : forbidden.check(addr, 'ipv6')
  }
  return true
}

/** A webhook URL as given: http(s), a host, no credentials. Throws validation_failed. */
export function parseTargetUrl(raw: string): URL {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw invalid('url: not a URL')
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('url: only http and https are allowed')
  if (u.username || u.password) throw invalid('url: credentials in the URL are not allowed (they would be logged); put a secret in the path')
  return u
}

/**
 * Resolves the URL's host and refuses it when any address is forbidden. At delivery time the same
 * check runs inside the connection's own lookup (see postJson), so a name that changes its answer
 * after this check (DNS rebinding) is refused there.
 */
export async function checkTarget(raw: string, allowPrivate: boolean): Promise<URL> {
  const u = parseTargetUrl(raw)
  if (allowPrivate) return u
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const addrs = isIP(host) ? [host] : await new Promise<string[]>((resolve) =>
    dnsLookup(host, { all: true }, (err, list) => resolve(err ? [] : list.map((a) => a.address))),
  )
  if (addrs.length === 0) throw invalid(`url: ${host} does not resolve`)
  const bad = addrs.find(isForbiddenAddress)
  if (bad) throw invalid(`url: ${host} resolves to ${bad}, a loopback, private, link-local or reserved address (set WEBHOOK_ALLOW_PRIVATE=1 to allow)`)
  return u
}

/** A lookup that fails on forbidden addresses: the check applies to the address actually connected to. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, list) => {
    if (err) return callback(err, '', 0)
    const ok = list.filter((a) => !isForbiddenAddress(a.address))
    if (ok.length === 0) {
      const e = Object.assign(new Error(`${hostname} resolves only to forbidden addresses`), { code: 'EFORBIDDEN' })
      return callback(e, '', 0)
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof ok) => void)(null, ok)
    callback(null, ok[0]!.address, ok[0]!.family)
  })
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
}

export interface PostResult {
  /** HTTP status, or 0 when no response came (refused, timed out, forbidden address). */
  status: number
  /** The first bytes of the response body (or the error), for the delivery log. */
  excerpt: string
  retryAfterMs: number | null
  error: string | null
}

const EXCERPT_BYTES = 1024

/**
 * POSTs a JSON body; never follows a redirect (a 3xx is a failure like any other non-2xx), gives up
 * after `timeoutMs` in all (connect, send, response), reads at most EXCERPT_BYTES of the answer.
 */
export function postJson(url: URL, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<PostResult> {
  const mod = url.protocol === 'https:' ? https : http
  return new Promise<PostResult>((resolve) => {
    let done = false
    const finish = (r: PostResult) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(r)
    }
    const req = mod.request(url, {
      method: 'POST',
      agent: url.protocol === 'https:' ? agents.https : agents.http,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'sillage-webhooks/1' },
      ...(opts.allowPrivate ? {} : { lookup: guardedLookup }),
    })
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`))
    }, opts.timeoutMs)
    req.on('error', (err) => finish({ status: 0, excerpt: '', retryAfterMs: null, error: err.message }))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let got = 0
      res.on('data', (c: Buffer) => {
        if (got < EXCERPT_BYTES) chunks.push(c.subarray(0, EXCERPT_BYTES - got))
        got += c.length
      })
      res.on('error', (err) => finish({ status: res.statusCode ?? 0, excerpt: '', retryAfterMs: null, error: err.message }))
      res.on('end', () => {
        finish({ status: res.statusCode ?? 0, excerpt: Buffer.concat(chunks).toString('utf8'), retryAfterMs: retryAfter(res.headers['retry-after']), error: null })
      })
    })
    req.end(body)
  })
}

/** Retry-After as ms: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfter(v: string | undefined, now = Date.now()): number | null {
  if (!v) return null
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const t = Date.parse(v)
  return Number.isNaN(t) ? null : Math.max(0, t - now)
}
