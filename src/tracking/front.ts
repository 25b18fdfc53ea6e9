/*
 * The raw-socket front of the tracking edge. node:http spends more per request on its own
 * machinery (an IncomingMessage and a ServerResponse stream, the header object, per-request
 * socket timers) than the edge spends on its work, so the two hot paths are read from the
 * socket here: a strict head parser (hot-head.ts), the edge, and one precomputed response
 * written with one write(2). The first request that is not a hot path (the API, a dashboard
 * page, anything odd or malformed) hands the connection, with the bytes already read, to
 * node:http for the rest of its life: node:http stays the one HTTP implementation for
 * everything but two GETs.
 *
 * What node:http did for these connections is done here too: the headers timeout (408), the
 * keep-alive timeout, the header size limit (by handing over, so node:http answers 431),
 * pipelined requests answered in order, backpressure both ways, Connection: close, half-closed
 * clients, and graceful shutdown (close(), closeIdleConnections(), closeAllConnections()).
 */
import { Server as HttpServer, type ServerOptions as HttpServerOptions, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { ENDED_BODY, ENDED_HEADERS, GIF, GIF_HEADERS, NOT_FOUND_BODY, NOT_FOUND_HEADERS, REDIRECT_HEADERS, type Edge, type HotReply } from './edge.js'
import { hotPrefix, parseHotHead, type HotHead } from './hot-head.js'
import { clientIpFrom } from './ip.js'

export interface FrontLimits {
  maxHeaderSize: number
  headersTimeout: number
  keepAliveTimeout: number
  connectionsCheckingInterval: number
}

/** Unread bytes kept while a request is being answered; past this, reading pauses. */
const MAX_PENDING_BYTES = 64 * 1024
const CRLFCRLF = Buffer.from('\r\n\r\n')
/** A value that may go in a response header as it is. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * A CR without LF after it, or an LF without CR before it, in buf[from, end) of a head still
 * arriving (a last CR may yet get its LF, so it is looked at again with the next piece).
 */
function hasBareLineEnd(buf: Buffer, from: number): boolean {
  const n = buf.length
  for (let i = from > 0 ? from - 1 : 0; i < n; i++) {
    const b = buf[i]
    if (b === 10 && (i === 0 || buf[i - 1] !== 13)) return true
    if (b === 13 && i + 1 < n && buf[i + 1] !== 10) return true
  }
  return false
}

/** Date header values, computed once a second as node:http does. */
let dateValue = ''
let dateUntil = 0
function httpDate(): string {
  const now = Date.now()
  if (now >= dateUntil) {
    dateValue = new Date(now).toUTCString()
    dateUntil = now - (now % 1000) + 1000
  }
  return dateValue
}

function headerLines(flat: readonly string[]): string {
  let s = ''
  for (let i = 0; i < flat.length; i += 2) s += `${flat[i]}: ${flat[i + 1]}\r\n`
  return s
}

/** The fixed responses, rebuilt when the Date changes: [keep-alive GET, keep-alive HEAD, close GET, close HEAD]. */
interface Canned {
  date: string
  gif: Buffer[]
  notFound: Buffer[]
  ended: Buffer[]
}

/**
 * A node:http Server whose hot-path connections are served by the front. listen, close,
 * address and every event of http.Server work as before.
 */
export class FrontServer extends HttpServer {
  private readonly conns = new Set<Connection>()
  private closing = false
  private sweepTimer: NodeJS.Timeout | undefined
  private readonly keepAliveTail: string
  private readonly redirectMid = headerLines(REDIRECT_HEADERS)
  private canned: Canned = { date: '', gif: [], notFound: [], ended: [] }
  /** node:http's own connection listener: where handed-over connections go. */
  private readonly nodeListener: (socket: Socket) => void

  constructor(
    options: HttpServerOptions,
    listener: (req: IncomingMessage, res: ServerResponse) => void,
    readonly edge: Edge,
    readonly limits: FrontLimits,
  ) {
    super(options, listener)
    this.nodeListener = this.listeners('connection')[0] as (socket: Socket) => void
    this.removeListener('connection', this.nodeListener)
    this.on('connection', (socket: Socket) => this.conns.add(new Connection(this, socket)))
    this.keepAliveTail = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(limits.keepAliveTimeout / 1000)}\r\n\r\n`
    this.on('listening', () => {
      this.sweepTimer = setInterval(() => this.sweep(), limits.connectionsCheckingInterval)
      this.sweepTimer.unref()
    })
    this.on('close', () => clearInterval(this.sweepTimer))
    // node:http has read a head on this socket: a deadline set at the hand-over no longer applies.
    this.on('request', (req: IncomingMessage) => this.awaitingHead.delete(req.socket))
  }

  /** Stops accepting; idle front connections close now, busy ones after their answer (Connection: close). */
  override close(callback?: (err?: Error) => void): this {
    this.closing = true
    this.closeIdleFront()
    return super.close(callback)
  }

  override closeIdleConnections(): void {
    this.closeIdleFront()
    super.closeIdleConnections()
  }

  override closeAllConnections(): void {
    for (const c of this.conns) c.socket.destroy()
    this.conns.clear()
    super.closeAllConnections()
  }

  get isClosing(): boolean {
    return this.closing
  }

  private closeIdleFront(): void {
    for (const c of this.conns) if (c.idle) c.drop()
  }

  /**
   * `headSince`: when the head being read began arriving (0: none pending). node:http starts its own
   * headers timer at the hand-over; the head keeps the deadline it had, so one head cannot get a
   * headers timeout from the front and then a fresh one from node:http.
   */
  handOff(c: Connection, socket: Socket, unread: Buffer | null, headSince = 0): void {
    this.conns.delete(c)
    this.edge.stats.frontHandOffs++
    if (headSince !== 0) this.keepHeadDeadline(socket, headSince + this.limits.headersTimeout)
    // The bytes read so far go back into the stream; resume() delivers them to node:http's 'data'
    // listener on the next tick, before the event loop reads the socket again (a later read goes to
    // node:http's parser directly, an EOF waits for the stream to be drained).
    socket.pause()
    if (unread) socket.unshift(unread)
    this.nodeListener.call(this, socket)
    socket.resume()
  }

  private readonly awaitingHead = new WeakSet<Socket>()

  private keepHeadDeadline(socket: Socket, deadline: number): void {
    this.awaitingHead.add(socket)
    const timer = setTimeout(() => {
      if (!this.awaitingHead.has(socket) || socket.destroyed) return
      // node:http's own words for it (and nothing is being answered on this socket yet).
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', 'latin1')
      setTimeout(() => socket.destroy(), 1_000).unref()
    }, Math.max(0, deadline - Date.now()))
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }

  forget(c: Connection): void {
    this.conns.delete(c)
  }

  private sweep(): void {
    const now = Date.now()
    for (const c of this.conns) c.check(now, this.limits)
  }

  private cannedNow(): Canned {
    const date = httpDate()
    if (this.canned.date !== date) {
      const build = (status: string, flat: readonly string[], body: Buffer): Buffer[] => {
        const head = `HTTP/1.1 ${status}\r\n${headerLines(flat)}Date: ${date}\r\n`
        const ka = Buffer.from(head + this.keepAliveTail, 'latin1')
        const close = Buffer.from(head + 'Connection: close\r\n\r\n', 'latin1')
        return [Buffer.concat([ka, body]), ka, Buffer.concat([close, body]), close]
      }
      this.canned = {
        date,
        gif: build('200 OK', GIF_HEADERS, GIF),
        notFound: build('404 Not Found', NOT_FOUND_HEADERS, NOT_FOUND_BODY),
        ended: build('410 Gone', ENDED_HEADERS, ENDED_BODY),
      }
    }
    return this.canned
  }

  /** The bytes of an answer: the GIF, the 404 or the 410 page, for a keep-alive or closing connection, to a GET or a HEAD. */
  cannedResponse(which: 'gif' | 'notFound' | 'ended', close: boolean, head: boolean): Buffer {
    return this.cannedNow()[which][(close ? 2 : 0) + (head ? 1 : 0)]!
  }

  redirectResponse(location: string, close: boolean): string {
    return `HTTP/1.1 302 Found\r\nLocation: ${location}\r\n${this.redirectMid}Date: ${httpDate()}\r\n${close ? 'Connection: close\r\n\r\n' : this.keepAliveTail}`
  }
}

/** One client connection while the front serves it. At most one request is answered at a time, so answers keep their order. */
class Connection implements HotReply {
  private buf: Buffer | null = null
  /** A request is being answered (its journal write or link lookup is pending). */
  private busy = false
  private head = false
  private closeAfter = false
  private ended = false
  private gone = false
  private processing = false
  private pausedForUs = false
  /** Bytes of the head in progress already scanned for its end and for bare line ends. */
  private scanned = 0
  /** When the head in progress began to arrive (0: none in progress). */
  private headSince = 0
  private lastActive = Date.now()

  constructor(
    private readonly server: FrontServer,
    readonly socket: Socket,
  ) {
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('drain', this.onDrain)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
  }

  get idle(): boolean {
    return !this.busy
  }

  private readonly onData = (d: Buffer): void => {
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d])
    if (this.headSince === 0) this.headSince = Date.now()
    if (!this.busy) this.process()
    else this.flow()
  }

  private readonly onEnd = (): void => {
    this.ended = true
    if (!this.busy) this.process()
  }

  private readonly onDrain = (): void => this.flow()

  private readonly onError = (): void => {
    // 'close' follows; nothing to answer on a broken connection.
  }

  private readonly onClose = (): void => {
    this.gone = true
    this.server.forget(this)
  }

  /** Reads and answers what has arrived, until a request must wait or the bytes run out. */
  private process(): void {
    if (this.processing) return
    this.processing = true
    try {
      while (!this.busy && !this.gone) {
        const buf = this.buf
        if (buf === null) {
          this.headSince = 0
          // The client has half-closed and nothing is pending: close our side too.
          if (this.ended) this.drop(true)
          return
        }
        const prefix = hotPrefix(buf)
        if (prefix === 0) return this.handOff()
        // A head arriving in pieces is scanned once: only the bytes new since the last piece (and the 3 before).
        const end = prefix === 1 ? buf.indexOf(CRLFCRLF, Math.max(0, this.scanned - 3)) : -1
        if (end < 0) {
          // Too long to be ours, or a line end node:http refuses at once: node:http answers (431, 400).
          if (buf.length > this.server.limits.maxHeaderSize || hasBareLineEnd(buf, this.scanned)) return this.handOff()
          this.scanned = buf.length
          // The client closed its side in the middle of a head: node:http's answer to that.
          if (this.ended) return this.endWith('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
          return this.flow()
        }
        this.scanned = 0
        if (end + 4 > this.server.limits.maxHeaderSize) return this.handOff()
        const head = parseHotHead(buf, end)
        if (head === null) return this.handOff()
        this.buf = end + 4 === buf.length ? null : buf.subarray(end + 4)
        this.headSince = this.buf === null ? 0 : Date.now()
        this.answer(head)
      }
    } finally {
      this.processing = false
    }
  }

  private answer(h: HotHead): void {
    this.busy = true
    this.head = h.method === 'HEAD'
    this.closeAfter = h.close
    h.ip = clientIpFrom(this.socket.remoteAddress ?? '', h.xForwardedFor, h.forwarded, this.server.edge.trustProxy)
    this.server.edge.serve(h, this)
  }

  redirect(location: string): void {
    // Locations are registered URLs (serialised by WHATWG URL) plus encoded parameters; never a header split.
    if (!HEADER_VALUE.test(location)) return this.notFound()
    this.send(this.server.redirectResponse(location, this.closing()))
  }

  gif(): void {
    this.send(this.server.cannedResponse('gif', this.closing(), this.head))
  }

  notFound(): void {
    this.send(this.server.cannedResponse('notFound', this.closing(), this.head))
  }

  offerEnded(): void {
    this.send(this.server.cannedResponse('ended', this.closing(), this.head))
  }

  private closing(): boolean {
    return this.closeAfter || this.server.isClosing
  }

  private send(bytes: string | Buffer): void {
    const close = this.closing()
    this.busy = false
    this.lastActive = Date.now()
    this.server.edge.stats.frontAnswers++
    if (this.gone) return
    if (typeof bytes === 'string') this.socket.write(bytes, 'latin1')
    else this.socket.write(bytes)
    if (close) return this.drop(true)
    if (this.buf !== null || this.ended) this.process()
    else this.flow()
  }

  /** Closes the connection: after what was written (`graceful`), or at once. */
  drop(graceful = false): void {
    this.gone = true
    this.server.forget(this)
    if (graceful) this.socket.end()
    else this.socket.destroy()
  }

  /** node:http's last words to a client (400, 408): the answer, then the connection closes. */
  private endWith(response: string): void {
    this.gone = true
    this.server.forget(this)
    this.socket.end(response, 'latin1')
    // A client that neither reads nor closes must not hold the socket.
    setTimeout(() => this.socket.destroy(), 1_000).unref()
  }

  private handOff(): void {
    const unread = this.buf
    this.buf = null
    this.gone = true
    const s = this.socket
    s.removeListener('data', this.onData)
    s.removeListener('end', this.onEnd)
    s.removeListener('drain', this.onDrain)
    s.removeListener('error', this.onError)
    s.removeListener('close', this.onClose)
    this.server.handOff(this, s, unread, unread === null ? 0 : this.headSince)
  }

  /** Pauses reading while a request waits with many bytes behind it or the client does not read its answers. */
  private flow(): void {
    const stop = this.socket.writableNeedDrain || (this.busy && this.buf !== null && this.buf.length > MAX_PENDING_BYTES)
    if (stop && !this.pausedForUs) {
      this.pausedForUs = true
      this.socket.pause()
    } else if (!stop && this.pausedForUs) {
      this.pausedForUs = false
      this.socket.resume()
    }
  }

  /** The sweep: a head arriving for longer than the headers timeout gets 408; an idle keep-alive connection is closed. */
  check(now: number, limits: FrontLimits): void {
    if (this.busy || this.gone) return
    if (this.headSince !== 0 && now - this.headSince > limits.headersTimeout) {
      this.endWith('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n')
    } else if (this.headSince === 0 && this.buf === null && now - this.lastActive > limits.keepAliveTimeout) {
      this.drop()
    }
  }
}
