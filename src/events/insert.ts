import { parseUserAgent } from '../tracking/classify/parse-ua.js'
import { JOURNAL_FIELDS, unescapeField } from './event.js'

/**
 * Journal bytes → one `INSERT … SELECT … FROM format(TabSeparated, …)` statement: ClickHouse
 * parses the journal lines itself, so the process that serves the edge never decodes a line
 * nor builds a row. The only per-line work left in JS is one byte scan that checks the line
 * has every field and finds its user agent; UA parsing (ua_client/os/device) runs once per
 * distinct UA of the batch and reaches the SELECT as bound arrays looked up with transform().
 *
 * The data goes inside the statement (a heredoc literal), not after it as an INSERT body: the
 * embedded engine (chDB) runs `query + "\n" + body` and does not feed that body to input(),
 * while format() with a literal reads the same on chDB and on a ClickHouse server over HTTP.
 */

const FIELDS = JOURNAL_FIELDS.length
const UA_FIELD = JOURNAL_FIELDS.findIndex(([name]) => name === 'user_agent')
/**
 * Bound on the distinct user-agent text of one batch: over HTTP the bound arrays travel in the
 * URL (ClickHouse accepts 1 MiB; URL encoding can triple the size), so a batch ends early instead.
 */
export const MAX_BATCH_UA_BYTES = 128 << 10

const INPUT_STRUCTURE = JOURNAL_FIELDS.map(([name, type]) => `${name} ${type}`).join(', ')

const COLUMNS =
  'event_id, type, ts, campaign_id, link_id, recipient_id, token_valid, method, ip, user_agent, referer, ' +
  'prefetch, class, reasons, proxy, classifier_version, ua_client, ua_os, ua_device, amount, currency, order_id, extra'

const SELECT =
  "event_id, type, fromUnixTimestamp64Milli(ts, 'UTC'), campaign_id, link_id, recipient_id, token_valid = 1, " +
  "method, ip, user_agent, referer, prefetch, class, if(reasons = '', [], splitByChar(',', reasons)), proxy, " +
  "classifier_version, transform(user_agent, {uas:Array(String)}, {clients:Array(String)}, ''), " +
  "transform(user_agent, {uas:Array(String)}, {oses:Array(String)}, ''), " +
  "transform(user_agent, {uas:Array(String)}, {devices:Array(String)}, ''), " +
  "toDecimal64(if(amount = '', '0', amount), 4), currency, order_id, extra"

export interface BatchScan {
  /** Bytes of whole lines taken from the start of the buffer. */
  end: number
  /** Lines taken, skipped ones included. */
  lines: number
  /** Lines taken that are not events (wrong field count): left out of the insert. */
  skipped: Array<[number, number]>
  /** Distinct user agents of the taken lines, unescaped (as ClickHouse stores them). */
  uas: Set<string>
}

/**
 * Takes up to `maxLines` whole lines from `buf`, stopping early before a line whose new user
 * agent would push the batch's distinct UA text past `maxUaBytes`.
 */
/** Bytes at the end of a user agent that its hash covers. */
const UA_HASH_BYTES = 24

export function scanBatch(buf: Buffer, maxLines: number, maxUaBytes = MAX_BATCH_UA_BYTES): BatchScan {
  const uas = new Set<string>()
  const skipped: Array<[number, number]> = []
  // User agents already taken, by a hash of their length and last bytes (where versions differ):
  // a UA seen before (most lines) is recognised by comparing bytes, without making a string of it.
  const known = new Map<number, Array<[number, number]>>()
  let uaBytes = 0
  let pos = 0
  let lines = 0
  while (lines < maxLines) {
    const nl = buf.indexOf(10, pos)
    if (nl < 0) break
    let tabs = 0
    let uaStart = -1
    let uaEnd = -1
    for (let i = pos; i < nl; i++) {
      if (buf[i] === 9) {
        tabs++
        if (tabs === UA_FIELD) uaStart = i + 1
        else if (tabs === UA_FIELD + 1) uaEnd = i
      }
    }
    if (tabs !== FIELDS - 1) {
      skipped.push([pos, nl + 1])
    } else {
      let hash = uaEnd - uaStart
      for (let i = Math.max(uaStart, uaEnd - UA_HASH_BYTES); i < uaEnd; i++) hash = (Math.imul(hash, 31) + buf[i]!) | 0
      const same = known.get(hash)
      let seen = false
      if (same) {
        for (const [s, e] of same) {
          if (e - s === uaEnd - uaStart && buf.compare(buf, uaStart, uaEnd, s, e) === 0) {
            seen = true
            break
          }
        }
      }
      if (!seen) {
        const ua = unescapeField(buf.toString('utf8', uaStart, uaEnd))
        if (!uas.has(ua)) {
          if (uas.size > 0 && uaBytes + ua.length > maxUaBytes) break
          uas.add(ua)
          uaBytes += ua.length
        }
        if (same) same.push([uaStart, uaEnd])
        else known.set(hash, [[uaStart, uaEnd]])
      }
    }
    pos = nl + 1
    lines++
  }
  return { end: pos, lines, skipped, uas }
}

export interface InsertStatement {
  query: string
  params: Record<string, string[]>
  /** Events in the statement. */
  rows: number
}

/** The insert of a scanned range (`buf` holds exactly `scan.end` bytes); null when no line is an event. */
export function insertStatement(db: string, buf: Buffer, scan: BatchScan, seqBase?: number): InsertStatement | null {
  const rows = scan.lines - scan.skipped.length
  if (rows === 0) return null
  let data = buf
  if (scan.skipped.length > 0) {
    const parts: Buffer[] = []
    let from = 0
    for (const [s, e] of scan.skipped) {
      if (s > from) parts.push(buf.subarray(from, s))
      from = e
    }
    if (from < buf.length) parts.push(buf.subarray(from))
    data = Buffer.concat(parts)
  }
  const text = data.toString('utf8')
  // A heredoc takes the bytes as they are; data that contains its delimiter goes in a quoted literal.
  const literal = text.includes('$$') ? "'" + text.replace(/[\\']/g, (c) => '\\' + c) + "'" : '$$' + text + '$$'
  const uas = [...scan.uas]
  const clients: string[] = []
  const oses: string[] = []
  const devices: string[] = []
  for (const ua of uas) {
    const p = parseUserAgent(ua)
    clients.push(p.client)
    oses.push(p.os)
    devices.push(p.device)
  }
  // The row number is unique within the statement; a replay under the same dedup token is dropped whole.
  const seq = seqBase === undefined ? '' : ', seq'
  const seqValue = seqBase === undefined ? '' : `, ${seqBase} + rowNumberInAllBlocks()`
  return {
    query: `INSERT INTO ${db}.events (${COLUMNS}${seq}) SELECT ${SELECT}${seqValue} FROM format(TabSeparated, '${INPUT_STRUCTURE}', ${literal})`,
    params: { uas, clients, oses, devices },
    rows,
  }
}
