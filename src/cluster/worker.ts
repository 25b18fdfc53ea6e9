import { Agent, request } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
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
  const send = (m: WorkerMessage) => process.send?.(m)
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
    // The primary trusts X-Forwarded-For from its workers only: set it to the address this worker vouches for.
    const headers = { ...req.headers, 'x-forwarded-for': clientIp(req, config.trustProxy) }
    const up = request({ host: '127.0.0.1', port: primaryPort, method: req.method, path: req.url, headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders)
      upRes.pipe(res)
    })
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
