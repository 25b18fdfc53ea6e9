import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { AppDeps } from './deps.js'
import { createApp } from './app.js'
import { renderMetrics, StatusCounter, type MetricsSnapshot } from './observability/metrics.js'
import type { Edge } from './tracking/edge.js'
import { FrontServer } from './tracking/front.js'

/** Bounds on what a client may send or how slowly, so no client can hold the edge. */
export const SERVER_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  /** How often the timeouts above are enforced (Node's default, 30 s, would let a slow client stay 40 s). */
  connectionsCheckingInterval: 1_000,
  /** How long a connection closed by an answer given before its body was read keeps reading and dropping it (see lingerOnClose). */
  lingerMs: 2_000,
}

export type ServerLimits = typeof SERVER_LIMITS

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * A node:http server where the edge answers /c and /o and `rest` everything else, within
 * SERVER_LIMITS. The hot paths are read from the socket by the front (src/tracking/front.ts)
 * until a connection sends anything else; `front: false` leaves every request to node:http.
 */
export function createEdgeServer(edge: Edge, rest: Handler, limits: ServerLimits = SERVER_LIMITS, opts: { front?: boolean } = {}): Server {
  const options = { maxHeaderSize: limits.maxHeaderSize, connectionsCheckingInterval: limits.connectionsCheckingInterval }
  const listener: Handler = (req, res) => {
    if (edge.handle(req, res)) return
    lingerOnClose(req.socket, limits.lingerMs)
    rest(req, res)
  }
  const server = opts.front === false ? createHttpServer(options, listener) : new FrontServer(options, listener, edge, limits)
  server.headersTimeout = limits.headersTimeout
  server.requestTimeout = limits.requestTimeout
  server.keepAliveTimeout = limits.keepAliveTimeout
  return server
}

const LINGERS = Symbol('sillage.lingers')

/**
 * An answer given before the request's body was read (a 413 for an over-limit body) closes the
 * connection; closing with bytes still unread makes the kernel reset it, and a client still writing
 * its body then loses the answer (30 MB bodies on loopback: 3 in 10 saw EPIPE, not the 413). node:http
 * closes through `socket.destroySoon()` once the answer is written: this one sends the FIN and goes on
 * reading (node's parser drops the rest of the body) for up to `ms` or until the client closes its
 * side, then destroys, as web servers' lingering close does.
 */
function lingerOnClose(socket: Socket & { [LINGERS]?: true }, ms: number): void {
  if (socket[LINGERS]) return
  socket[LINGERS] = true
  socket.destroySoon = function (this: Socket) {
    if (this.destroyed) return
    const done = () => {
      clearTimeout(timer)
      this.destroy()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    this.once('end', done)
    this.once('error', done)
    if (this.writable) this.end()
  }
}

export interface ServerOptions {
  /** Adds what other processes report (a cluster's primary adds its workers and their writers). */
  metrics?: (own: MetricsSnapshot) => MetricsSnapshot
  /** Tests shorten the timeouts. */
  limits?: ServerLimits
}

/**
 * One node:http server: the edge answers /c and /o itself (Hono halves the throughput of
 * those two hot paths), /metrics is rendered here, and every other request goes to the Hono app.
 */
export function createServer(deps: AppDeps, opts: ServerOptions = {}): { server: Server } {
  const app = createApp(deps)
  const listener = getRequestListener(app.fetch)
  const apiStatus = new StatusCounter()
  const snapshot = (): MetricsSnapshot => {
    const own: MetricsSnapshot = { edge: [deps.edge.stats], api: apiStatus.counts, journal: deps.journal.stats, writers: [deps.writer.stats], workers: 1 }
    return opts.metrics ? opts.metrics(own) : own
  }
  const server = createEdgeServer(deps.edge, (req, res) => {
    if (req.url === '/metrics' || req.url?.startsWith('/metrics?')) return metricsEndpoint(req, res, deps.config.metricsToken ?? deps.config.adminKey, snapshot)
    res.once('finish', () => apiStatus.add(res.statusCode))
    void listener(req, res)
  }, opts.limits)
  return { server }
}

function metricsEndpoint(req: IncomingMessage, res: ServerResponse, token: string | undefined, snapshot: () => MetricsSnapshot): void {
  // Counters say how much traffic a sender has: not public. Without any token configured, nobody may read them.
  if (!token || req.headers.authorization !== `Bearer ${token}`) {
    // The API's error shape, although this endpoint answers Prometheus text when allowed.
    res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' })
    res.end(JSON.stringify({ error: { code: 'unauthorized', message: '/metrics wants "Authorization: Bearer <METRICS_TOKEN or TRACKER_ADMIN_KEY>"' } }))
    return
  }
  const body = renderMetrics(snapshot())
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' })
  res.end(body)
}
