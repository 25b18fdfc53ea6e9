/*
 * The edge alone, for the edge-only benchmark: node:http + the real createEdge, Journal and
 * TokenCodec, links from an in-memory map, no Hono, no stores, no writer. What sillage's hot
 * path costs by itself, without ingestion or the embedded engines in the process.
 *
 *   node --import tsx bench/lib/edge-server.ts <campaign> <links> <location-prefix>
 * Prints its port, then one line per click path on stdout (`/c/<link>/<token>`; with
 * EDGE_PATHS=pixel one per pixel, `/o/<campaign>/<token>.gif`), then `end`.
 * EDGE_JOURNAL=immediate answers on the next setImmediate without writing, =sync answers at once:
 * to tell the journal's write and the deferred answer apart from the rest of the hot path.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { Journal } from '../../src/events/journal.js'
import { createLogger } from '../../src/logger.js'
import { createEdgeServer } from '../../src/server.js'
import { createEdge, type LinkSource } from '../../src/tracking/edge.js'
import type { CachedLink } from '../../src/tracking/links.js'
import { TokenCodec } from '../../src/tracking/token.js'

const campaignId = process.argv[2] ?? 'bench-edge'
const linkCount = Number(process.argv[3] ?? 10)
const prefix = process.argv[4] ?? 'https://shop.example.com/p/'
const links = new Map<string, CachedLink>()
for (let i = 0; i < linkCount; i++) links.set('lnk' + i, { id: 'lnk' + i, campaignId, url: prefix + i })
const campaign = { id: campaignId, settings: {} }
const source = {
  link: (id: string) => links.get(id),
  campaign: (id: string) => (id === campaignId ? campaign : undefined),
  lookupLink: async (id: string) => links.get(id),
  lookupCampaign: async (id: string) => (id === campaignId ? campaign : undefined),
} as unknown as LinkSource
const tokens = new TokenCodec(['bench-edge-secret-0123456789abcdef'])
const journal = new Journal({ dir: mkdtempSync(join(tmpdir(), 'sillage-edge-')), fsyncIntervalMs: 1000, maxBytes: 1 << 30, log: createLogger('warn') })
const mode = process.env.EDGE_JOURNAL
const stub = {
  append: mode === 'sync' ? (_l: string, done: () => void) => done() : (_l: string, done: () => void) => void setImmediate(done),
} as unknown as Journal
const edge = createEdge({ journal: mode === 'sync' || mode === 'immediate' ? stub : journal, links: source, tokens, trustProxy: false, ipV4Prefix: 24, ipV6Prefix: 48 })
const server = createEdgeServer(edge, (_req, res) => {
  res.writeHead(404)
  res.end()
})
server.listen(0, '127.0.0.1', () => {
  let out = `${(server.address() as AddressInfo).port}\n`
  for (let r = 0; r < 2000; r++) {
    const token = tokens.sign(campaignId, 'r' + r)
    out += process.env.EDGE_PATHS === 'pixel' ? `/o/${campaignId}/${token}.gif\n` : `/c/lnk${r % linkCount}/${token}\n`
  }
  process.stdout.write(out + 'end\n')
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
