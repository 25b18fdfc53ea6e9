import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../config.js'
import { Journal } from '../events/journal.js'
import type { Logger } from '../logger.js'
import { createEdgeServer } from '../server.js'
import { edgeFromConfig } from '../tracking/edge-from-config.js'
import { LinkCache, type LinkDelta } from '../tracking/links.js'
import { clientIp } from '../tracking/ip.js'
import { workerJournalDir, type PrimaryMessage, type WorkerMessage } from './protocol.js'

const STATS_INTERVAL_MS = 250
const LINK_REQUEST_TIMEOUT_MS = 5_000
/** Silence from the primary after which a forwarded request is answered 504. */
const FORWARD_IDLE_TIMEOUT_MS = 60_000

/**
 * A cluster worker: answers /c and /o with its own edge and journal (DATA_DIR/journal/w<id>),
 * and forwards every other request to the primary, which owns the stores.
 */
export async function startWorker(config: Config, log: Logger, id: number, primaryPort: number): Promise<void> {
  // A send to a primary that is gone fails with EPIPE: without a callback that is an unhandled
  // 'error' event and a crash; the 'disconnect' handler below stops this worker instead.
  const send = (m: WorkerMessage) => process.send?.(m, undefined, {}, (err) => err && log.debug('primary_unreachable', { message: err.message }))
  let nextReq = 0
  const waiting = new Map<number, (d: LinkDelta) => void>()
  const journal = new Journal({ dir: workerJournalDir(config.journalDir, id), fsyncIntervalMs: config.fsyncIntervalMs, maxBytes: config.journalMaxBytes, log })
  process.on('message', (m: PrimaryMessage) => {
    if (m.t === 'links') {
      waiting.get(m.req)?.(m)
      waiting.delete(m.req)
    } else if (m.t === 'pending') journal.setPendingBytes(m.bytes)
    else if (m.t === 'campaign') links.addCampaign(m.campaign)
    else if (m.t === 'link') links.addLink(m.link)
    else if (m.t === 'domains') links.setDomains(m.hosts)
  })
  // The embedded metadata store belongs to the primary: the cache asks it, over IPC, what linkDelta would say.
  const links = new LinkCache(
    (since) =>
      new Promise<LinkDelta>((resolve, reject) => {
        const req = nextReq++
        const t = setTimeout(() => {
          waiting.delete(req)
          reject(new Error('the primary did not answer a link request'))
        }, LINK_REQUEST_TIMEOUT_MS)
        waiting.set(req, (d) => {
          clearTimeout(t)
          resolve(d)
        })
        send({ t: 'links', req, since })
      }),
  )
  await links.load()
  const { edge } = edgeFromConfig(config, journal, links)
  const report = setInterval(() => send({ t: 'stats', edge: edge.stats, journal: journal.ownState }), STATS_INTERVAL_MS)
  report.unref()

  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    // A body over the API's limit is refused here, as the single process refuses it (413, connection
    // closed), rather than forwarded until the primary stops reading it and the write fails (a 502).
    const limit = bodyLimitOf(req.url ?? '', config.maxBodyBytes)
    const declared = Number(req.headers['content-length'] ?? 0)
    if (limit !== null && declared > limit) return tooLarge(res, limit)
    // The primary trusts X-Forwarded-For from its workers only: set it to the address this worker vouches for.
    const headers: Record<string, string | string[] | undefined> = { ...withoutHopByHop(req.headers), 'x-forwarded-for': clientIp(req, config.trustProxy) }
    let refused = false
    const up = request({ host: '127.0.0.1', port: primaryPort, method: req.method, path: req.url, headers, agent }, (upRes) => {
      // Hop-by-hop headers describe the loopback connection, not the client's: node:http frames the
      // answer for the client's own HTTP version (no chunked encoding to HTTP/1.0, its own Connection).
      res.writeHead(upRes.statusCode ?? 502, withoutHopByHop(upRes.headers))
      upRes.pipe(res)
    })
    if (limit !== null && req.headers['content-length'] === undefined) {
      // A body of unknown length (chunked) is counted as it passes.
      let seen = 0
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length
        if (seen > limit && !refused) {
          refused = true
          req.unpipe(up)
          up.destroy()
          if (!res.headersSent) tooLarge(res, limit)
        }
      })
    }
    let timedOut = false
    // Idle time, not total: a long export keeps streaming. A stalled primary must not hold this worker's sockets.
    up.setTimeout(FORWARD_IDLE_TIMEOUT_MS, () => {
      timedOut = true
      up.destroy(new Error(`no answer from the API process within ${FORWARD_IDLE_TIMEOUT_MS} ms`))
    })
    // The client went away: so does its request to the primary.
    res.once('close', () => {
      if (!res.writableFinished) up.destroy()
    })
    up.on('error', (err) => {
      if (refused) return
      log.warn('forward_failed', { message: err.message })
      if (!res.headersSent) {
        res.writeHead(timedOut ? 504 : 502, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ error: { code: 'unavailable', message: timedOut ? err.message : 'the API process is not answering' } }))
      } else res.destroy()
    })
    req.pipe(up)
  }
  const server = createEdgeServer(edge, forward)
  server.listen(config.port, config.host)

  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    // Stop accepting, answer what is in flight, then write and fsync what the journal holds.
    server.close(() => {
      journal.close()
      send({ t: 'stats', edge: edge.stats, journal: journal.ownState })
      process.exit(0)
    })
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), 5_000).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('disconnect', stop)
}

/**
 * Hop-by-hop headers (RFC 9110 7.6.1): the standard ones and any the Connection header names.
 * They are the business of one connection and are never forwarded.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization'])

export function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  )
  const out: Record<string, string | string[] | undefined> = {}
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v
  return out
}

/**
 * The body limit src/app.ts applies to a path (MAX_BODY_BYTES under /v1/), or null. The dashboard's
 * 16 KB forms are left to the primary: a socket's buffers take that much without a failed write.
 */
export function bodyLimitOf(url: string, maxBodyBytes: number): number | null {
  return url.startsWith('/v1/') ? maxBodyBytes : null
}

/** What the single process answers to an over-limit body: 413, JSON, and the connection closed (the rest is never read). */
function tooLarge(res: ServerResponse, limit: number): void {
  const body = JSON.stringify({ error: { code: 'payload_too_large', message: `request body is larger than ${limit} bytes`, requestId: randomUUID() } })
  res.writeHead(413, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' })
  res.end(body)
}
