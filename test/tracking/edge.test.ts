import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { JOURNAL_FIELDS, unescapeField } from '../../src/events/event.js'
import { Journal } from '../../src/events/journal.js'
import { createLogger } from '../../src/logger.js'
import { createEdgeServer } from '../../src/server.js'
import { createEdge, GIF, type LinkSource } from '../../src/tracking/edge.js'
import type { CachedLink } from '../../src/tracking/links.js'
import { TokenCodec } from '../../src/tracking/token.js'

/*
 * The edge on its own (no Hono, no stores): the real createEdge, Journal and TokenCodec behind
 * createEdgeServer, links from a map. Every answered event is read back from the journal file.
 */
const CAMPAIGN = 'camp1'
const link: CachedLink = { id: 'lnk1', campaignId: CAMPAIGN, url: 'https://shop.example.com/p/1?utm_source=mail' }
const tokens = new TokenCodec(['edge-test-secret-0123456789abcdef'])
let dir: string
let journal: Journal
let server: Server
let base: string
let rest = 0

const source = {
  link: (id: string) => (id === link.id ? link : undefined),
  campaign: (id: string) => (id === CAMPAIGN ? { id, settings: {} } : undefined),
  lookupLink: async (id: string) => (id === link.id ? link : undefined),
  lookupCampaign: async (id: string) => (id === CAMPAIGN ? { id, settings: {} } : undefined),
} as unknown as LinkSource

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sillage-edge-test-'))
  journal = new Journal({ dir, fsyncIntervalMs: 1000, maxBytes: 1 << 20, log: createLogger('silent') })
  const edge = createEdge({ journal, links: source, tokens, trustProxy: false, ipV4Prefix: 24, ipV6Prefix: 48 })
  server = createEdgeServer(edge, (_req, res) => {
    rest++
    res.writeHead(418)
    res.end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  journal.close()
  rmSync(dir, { recursive: true, force: true })
})

let seen = 0
beforeEach(() => {
  seen = journaled().length
})

/** One journal line as its fields, named in camelCase (tokenValid as a boolean). */
function readLine(line: string): Record<string, unknown> {
  const values = line.split('\t')
  expect(values).toHaveLength(JOURNAL_FIELDS.length)
  const e: Record<string, unknown> = {}
  JOURNAL_FIELDS.forEach(([name], i) => (e[name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())] = unescapeField(values[i]!)))
  e.tokenValid = e.tokenValid === '1'
  return e
}

/** Events journaled since the test began. */
function journaled(): Array<Record<string, unknown>> {
  const text = readdirSync(dir).filter((f) => f.endsWith('.log')).sort().map((f) => readFileSync(join(dir, f), 'utf8')).join('')
  return text.split('\n').filter(Boolean).map(readLine)
}
const newEvents = () => journaled().slice(seen)

async function get(path: string, init: RequestInit = {}) {
  const r = await fetch(base + path, { redirect: 'manual', ...init })
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) }
}

describe('click /c/:link/:token', () => {
  it('redirects to the registered URL and journals the reader before answering', async () => {
    const r = await get(`/c/lnk1/${tokens.sign(CAMPAIGN, 'alice')}`, { headers: { 'user-agent': 'Mozilla/5.0 Firefox/128.0\tx' } })
    expect(r.status).toBe(302)
    expect(r.headers.get('location')).toBe(link.url)
    expect(r.headers.get('cache-control')).toBe('no-store')
    const [e] = newEvents()
    expect(e).toMatchObject({ type: 'click', campaignId: CAMPAIGN, linkId: 'lnk1', recipientId: 'alice', tokenValid: true, method: 'GET' })
  })

  it('still redirects a forged or damaged token, recorded as unattributed', async () => {
    const good = tokens.sign(CAMPAIGN, 'bob')
    const forged = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA')
    const r = await get(`/c/lnk1/${forged}`)
    expect(r.status).toBe(302)
    expect(r.headers.get('location')).toBe(link.url)
    expect(newEvents()).toMatchObject([{ recipientId: '', tokenValid: false }])
  })

  it('answers HEAD with the redirect and records the method', async () => {
    const r = await get(`/c/lnk1/${tokens.sign(CAMPAIGN, 'carol')}`, { method: 'HEAD' })
    expect(r.status).toBe(302)
    expect(newEvents()).toMatchObject([{ method: 'HEAD', recipientId: 'carol' }])
  })

  it('ignores the query string', async () => {
    const r = await get(`/c/lnk1/${tokens.sign(CAMPAIGN, 'dan')}?utm=x&a=b`)
    expect(r.status).toBe(302)
    expect(newEvents()).toMatchObject([{ recipientId: 'dan' }])
  })

  it('answers an unknown link with the HTML 404 page, and HEAD without a body; nothing journaled', async () => {
    const r = await get(`/c/nope/${tokens.sign(CAMPAIGN, 'erin')}`)
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(r.body.toString()).toContain('Link not found')
    const h = await get('/c/nope/x', { method: 'HEAD' })
    expect(h.status).toBe(404)
    expect(h.body.length).toBe(0)
    expect((await get('/c/')).status).toBe(404)
    expect((await get('/c/' + 'x'.repeat(200) + '/t')).status).toBe(404)
    expect(newEvents()).toEqual([])
  })

  it('hands other paths and methods to the rest of the app', async () => {
    const before = rest
    expect((await get('/cx/lnk1/t')).status).toBe(418)
    expect((await get('/c')).status).toBe(418)
    expect((await get('/v1/campaigns')).status).toBe(418)
    expect((await get(`/c/lnk1/${tokens.sign(CAMPAIGN, 'x')}`, { method: 'POST' })).status).toBe(418)
    expect(rest - before).toBe(4)
    expect(newEvents()).toEqual([])
  })
})

describe('pixel /o/:campaign/:token.gif', () => {
  it('answers the GIF and journals the open', async () => {
    const r = await get(`/o/${CAMPAIGN}/${tokens.sign(CAMPAIGN, 'fay')}.gif`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('image/gif')
    expect(r.body.equals(GIF)).toBe(true)
    expect(newEvents()).toMatchObject([{ type: 'open', campaignId: CAMPAIGN, linkId: '', recipientId: 'fay', tokenValid: true }])
  })

  it('answers the GIF for an unknown campaign without recording anything; HEAD has no body', async () => {
    const r = await get(`/o/other/${tokens.sign('other', 'gus')}.gif`)
    expect(r.status).toBe(200)
    expect(r.body.equals(GIF)).toBe(true)
    const h = await get(`/o/${CAMPAIGN}/${tokens.sign(CAMPAIGN, 'gus')}.gif`, { method: 'HEAD' })
    expect(h.status).toBe(200)
    expect(h.body.length).toBe(0)
    expect(newEvents()).toMatchObject([{ type: 'open', method: 'HEAD', recipientId: 'gus' }])
  })
})

describe('limits', () => {
  it('refuses headers past the limit with 431 and keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(base + `/c/lnk1/${tokens.sign(CAMPAIGN, 'h')}`, { headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(431)
    expect((await get(`/c/lnk1/${tokens.sign(CAMPAIGN, 'h')}`)).status).toBe(302)
  })

  it('does not take an over-long token to the HMAC, and still redirects', async () => {
    const r = await get('/c/lnk1/' + 'A'.repeat(600))
    expect(r.status).toBe(302)
    expect(newEvents()).toMatchObject([{ tokenValid: false, recipientId: '' }])
  })
})
