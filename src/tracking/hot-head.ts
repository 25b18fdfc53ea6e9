/*
 * The request heads the raw-socket front answers itself: a narrow, strict subset of HTTP/1.1
 * (RFC 9112) that a browser or mail client sends to follow a tracked link or load a pixel.
 * Anything outside it is not an error here: it is handed to node:http, which parses it (and
 * refuses it) as it always did. So this parser only has to be right when it says yes.
 *
 * Accepted:  ("GET" | "HEAD") SP "/c/" or "/o/" *(%x21-7E) SP "HTTP/1.1" CRLF
 *            *( field-name ":" field-value CRLF )  with field-name = 1*tchar and
 *            field-value = *( HTAB / SP / %x21-7E / %x80-FF )
 *            CRLF
 * and a Host field, and none of Content-Length, Transfer-Encoding, Expect or Upgrade (a body
 * or a protocol switch is node:http's business). Repeated fields are read as node:http reads
 * them: the first User-Agent and Referer, the others joined with ", ".
 */
import { prefetchHints, type HotRequest } from './edge.js'

/** What the front needs beyond the HotRequest: the proxy headers and whether to close after answering. */
export interface HotHead extends HotRequest {
  xForwardedFor: string | undefined
  forwarded: string | undefined
  close: boolean
}

/** RFC 9110 tchar, by code point. */
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1
for (let c = 48; c <= 57; c++) TCHAR[c] = 1
for (let c = 65; c <= 90; c++) TCHAR[c] = TCHAR[c + 32] = 1

/** A control character other than HTAB, CR and LF (those are checked by position): node:http refuses them anywhere in a head. */
const CTL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/

/**
 * How a request's bytes begin: 1 for a hot-path request line, 0 for anything else, -1 when too
 * few bytes have come to tell.
 */
export function hotPrefix(buf: Buffer): 1 | 0 | -1 {
  const word = buf[0] === 71 ? 'GET /' : buf[0] === 72 ? 'HEAD /' : undefined
  if (word === undefined) return buf.length === 0 ? -1 : 0
  for (let k = 1; k < word.length; k++) {
    if (k >= buf.length) return -1
    if (buf[k] !== word.charCodeAt(k)) return 0
  }
  const i = word.length
  if (i >= buf.length) return -1
  if (buf[i] !== 99 && buf[i] !== 111) return 0
  if (i + 1 >= buf.length) return -1
  return buf[i + 1] === 47 ? 1 : 0
}

/**
 * Parses the head in buf[0, end) (end: the index of its closing CRLFCRLF, excluded) into
 * what the edge needs, or null when it is not a request the front should answer.
 */
export function parseHotHead(buf: Buffer, end: number): HotHead | null {
  // latin1: one char per byte, so positions are byte offsets and nothing is decoded away.
  const head = buf.toString('latin1', 0, end + 2)
  // Request line (hotPrefix has checked "GET /c/", "GET /o/", "HEAD /c/" or "HEAD /o/").
  const sp1 = head.charCodeAt(0) === 71 ? 3 : 4
  const sp2 = head.indexOf(' ', sp1 + 1)
  let lf = head.indexOf('\n')
  if (sp2 < 0 || lf !== sp2 + 10 || !head.startsWith(' HTTP/1.1\r', sp2)) return null
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = head.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) return null
  }
  const q = head.indexOf('?', sp1 + 4)
  const r: HotHead = {
    method: sp1 === 3 ? 'GET' : 'HEAD',
    kind: head.charCodeAt(sp1 + 2),
    rest: head.slice(sp1 + 4, q < 0 || q > sp2 ? sp2 : q),
    userAgent: '',
    referer: '',
    prefetch: '',
    ip: '',
    host: '',
    xForwardedFor: undefined,
    forwarded: undefined,
    close: false,
  }
  let userAgent: string | undefined
  let referer: string | undefined
  let secPurpose: string | undefined
  let purpose: string | undefined
  let xMoz: string | undefined
  let host: string | undefined
  let lines = 1
  // Fields: one per line; every LF must end a CRLF (a bare CR is caught by the count below).
  for (let pos = lf + 1; pos < head.length; pos = lf + 1) {
    lf = head.indexOf('\n', pos)
    if (lf < 0 || head.charCodeAt(lf - 1) !== 13) return null
    lines++
    const lineEnd = lf - 1
    // The name, read from the bytes (faster than the string's chars).
    let colon = pos
    for (;;) {
      if (colon === lineEnd) return null
      const c = buf[colon]!
      if (c === 58) break
      if (c > 127 || TCHAR[c] === 0) return null
      colon++
    }
    if (colon === pos) return null
    // Only the fields of interest are read, told apart by first letter and length.
    switch (((head.charCodeAt(pos) | 0x20) << 5) | (colon - pos)) {
      case KEY_HOST:
        if (is(head, pos, 'host') && host === undefined) host = value(head, colon + 1, lineEnd)
        break
      case KEY_USER_AGENT:
        if (is(head, pos, 'user-agent') && userAgent === undefined) userAgent = value(head, colon + 1, lineEnd)
        break
      case KEY_UPGRADE:
        if (is(head, pos, 'upgrade')) return null
        break
      case KEY_REFERER:
        if (is(head, pos, 'referer') && referer === undefined) referer = value(head, colon + 1, lineEnd)
        break
      case KEY_SEC_PURPOSE:
        if (is(head, pos, 'sec-purpose')) secPurpose = join(secPurpose, value(head, colon + 1, lineEnd))
        break
      case KEY_PURPOSE:
        if (is(head, pos, 'purpose')) purpose = join(purpose, value(head, colon + 1, lineEnd))
        break
      case KEY_X_MOZ:
        if (is(head, pos, 'x-moz')) xMoz = join(xMoz, value(head, colon + 1, lineEnd))
        break
      case KEY_X_FORWARDED_FOR:
        if (is(head, pos, 'x-forwarded-for')) r.xForwardedFor = join(r.xForwardedFor, value(head, colon + 1, lineEnd))
        break
      case KEY_FORWARDED:
        if (is(head, pos, 'forwarded')) r.forwarded = join(r.forwarded, value(head, colon + 1, lineEnd))
        break
      case KEY_CONNECTION:
        if (is(head, pos, 'connection')) {
          const v = value(head, colon + 1, lineEnd).toLowerCase()
          if (v === 'keep-alive') break
          if (v.includes('upgrade')) return null
          if (/(?:^|,)[ \t]*close[ \t]*(?:,|$)/.test(v)) r.close = true
        }
        break
      case KEY_CONTENT_LENGTH:
        if (is(head, pos, 'content-length')) return null
        break
      case KEY_TRANSFER_ENCODING:
        if (is(head, pos, 'transfer-encoding')) return null
        break
      case KEY_EXPECT:
        if (is(head, pos, 'expect')) return null
        break
    }
  }
  // As many CRs as lines: none stands alone.
  let crs = 0
  for (let i = head.indexOf('\r'); i >= 0; i = head.indexOf('\r', i + 1)) crs++
  if (crs !== lines || host === undefined || CTL.test(head)) return null
  r.host = host
  if (userAgent !== undefined) r.userAgent = userAgent
  if (referer !== undefined) r.referer = referer
  if (secPurpose !== undefined || purpose !== undefined || xMoz !== undefined) r.prefetch = prefetchHints(secPurpose, purpose, xMoz)
  return r
}

const key = (name: string) => (name.charCodeAt(0) << 5) | name.length
const KEY_HOST = key('host')
const KEY_USER_AGENT = key('user-agent')
const KEY_UPGRADE = key('upgrade')
const KEY_REFERER = key('referer')
const KEY_SEC_PURPOSE = key('sec-purpose')
const KEY_PURPOSE = key('purpose')
const KEY_X_MOZ = key('x-moz')
const KEY_X_FORWARDED_FOR = key('x-forwarded-for')
const KEY_FORWARDED = key('forwarded')
const KEY_CONNECTION = key('connection')
const KEY_CONTENT_LENGTH = key('content-length')
const KEY_TRANSFER_ENCODING = key('transfer-encoding')
const KEY_EXPECT = key('expect')

/** Whether the field name at `pos` is `lower`, in any case (names are tchar, so |0x20 lowers letters only). */
function is(head: string, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((head.charCodeAt(pos + i) | 0x20) !== lower.charCodeAt(i)) return false
  return true
}

/** A field's value without the optional whitespace around it. */
function value(head: string, from: number, to: number): string {
  while (from < to && (head.charCodeAt(from) === 32 || head.charCodeAt(from) === 9)) from++
  while (to > from && (head.charCodeAt(to - 1) === 32 || head.charCodeAt(to - 1) === 9)) to--
  return head.slice(from, to)
}

function join(prev: string | undefined, v: string): string {
  return prev === undefined ? v : prev + ', ' + v
}
