/*
 * The edge's own JavaScript per request, without sockets or HTTP parsing: edge.handle() on
 * request-shaped objects (2000 real tokens over 10 links, one user agent), with the journal
 * answering at once (`sync`) or the real Journal writing one write(2) per 50 requests (`real`).
 * Compare with what node:http itself costs per request (1 / the bare server's req/s on one core).
 *
 *   npx tsx bench/edge-micro.ts sync
 *   npx tsx bench/edge-micro.ts real
 *   CHANGED=1 npx tsx bench/edge-micro.ts sync   (links changed since the send)
 * A second figure is the front's reading of the same requests from bytes (parseHotHead, as
 * src/tracking/front.ts does) then edge.serve: what a click costs in JavaScript on the front.
 */
import { mkdtempSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Journal } from '../src/events/journal.js'
import { createLogger } from '../src/logger.js'
import { createEdge, type HotReply, type LinkSource } from '../src/tracking/edge.js'
import { parseHotHead } from '../src/tracking/hot-head.js'
import { TokenCodec } from '../src/tracking/token.js'
import { BROWSER_HEADERS, log, median } from './lib/runner.js'

const mode = process.argv[2] === 'real' ? 'real' : 'sync'
// CHANGED=1: every link changed since the send (PATCH): each click also records its destination in `extra`.
const version = process.env.CHANGED === '1' ? 1 : 0
const links = new Map(Array.from({ length: 10 }, (_, i) => ['lnk' + i, { id: 'lnk' + i, campaignId: 'c', url: 'https://shop.example.com/p/' + i, version }]))
const campaign = { id: 'c', settings: {} }
const source = {
  link: (id: string) => links.get(id),
  campaign: () => campaign,
  lookupLink: async (id: string) => links.get(id),
  lookupCampaign: async () => campaign,
} as unknown as LinkSource
const tokens = new TokenCodec(['bench-edge-secret-0123456789abcdef'])
const journal =
  mode === 'real'
    ? new Journal({ dir: mkdtempSync(join(tmpdir(), 'sillage-micro-')), fsyncIntervalMs: 1000, maxBytes: 1 << 30, log: createLogger('warn') })
    : ({ append: (_line: string, done: () => void) => done() } as unknown as Journal)
const edge = createEdge({ journal, links: source, tokens, trustProxy: false, ipV4Prefix: 24, ipV6Prefix: 48, publicBaseUrl: () => 'http://127.0.0.1:1234' })
const paths = Array.from({ length: 2000 }, (_, r) => `/c/lnk${r % 10}/${tokens.sign('c', 'r' + r)}`)
// A browser's navigation headers, as req.headers has them (node:http builds that object for every HTTP/1.1 request).
const headers = { host: '127.0.0.1:1234', connection: 'keep-alive', ...BROWSER_HEADERS }
const res = { writeHead: () => res, end: () => undefined } as unknown as ServerResponse
// The same requests as bytes, as the front reads them from the socket.
const heads = paths.map((p) => Buffer.from(`GET ${p} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'))
const reply: HotReply = { redirect: () => undefined, gif: () => undefined, notFound: () => undefined, offerEnded: () => undefined }
const N = 400_000

async function measure(name: string, one: (i: number) => void): Promise<void> {
  const perRequest: number[] = []
  const cpuPerRequest: number[] = []
  for (let round = 0; round < 5; round++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < N; i++) {
      one(i)
      // Like a loaded server: the journal writes once per event-loop turn, here every 50 requests.
      if (mode === 'real' && i % 50 === 49) await new Promise((r) => setImmediate(r))
    }
    await new Promise((r) => setImmediate(r))
    perRequest.push(((performance.now() - t0) * 1000) / N)
    const c = process.cpuUsage(c0)
    cpuPerRequest.push((c.user + c.system) / N)
  }
  // CPU time (this process, every thread: the collector included) moves less than wall time on a shared machine.
  log(
    `${name} (${mode} journal): median ${median(perRequest).toFixed(2)} µs/request over 5 × ${N} (rounds: ${perRequest.map((x) => x.toFixed(2)).join(', ')}); ` +
      `CPU ${median(cpuPerRequest).toFixed(2)} µs/request`,
  )
}

await measure('edge.handle (node:http\'s req.headers)', (i) => {
  const req = { url: paths[i % 2000], method: 'GET', headers, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage
  edge.handle(req, res)
})
await measure('front: parseHotHead + edge.serve (from bytes)', (i) => {
  const buf = heads[i % 2000]!
  const h = parseHotHead(buf, buf.length - 4)!
  h.ip = '127.0.0.1'
  edge.serve(h, reply)
})
process.exit(0)
