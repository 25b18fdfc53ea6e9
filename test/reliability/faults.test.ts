import { writeSync } from 'node:fs'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Journal } from '../../src/events/journal.js'
import { createLogger } from '../../src/logger.js'
import { createServer, SERVER_LIMITS } from '../../src/server.js'
import { createEdge } from '../../src/tracking/edge.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'

/*
 * Faults on the real app and stores, in this process: ClickHouse refusing inserts, the journal
 * failing to write (a full disk), slow and malformed clients, a flood of unknown links.
 */
let s: TestServer
let storeDown = false
let links: Array<{ id: string; path: string }>

beforeAll(async () => {
  s = await startTestServer({
    beforeInsert: () => {
      if (storeDown) throw new Error('injected: ClickHouse unavailable')
    },
  })
  await s.api('POST', '/v1/campaigns', { id: 'faults', name: 'faults' })
  await s.api('POST', '/v1/campaigns/faults/links', { url: 'https://example.org/faults' })
  const sends = await s.api('POST', '/v1/campaigns/faults/sends', { recipients: Array.from({ length: 600 }, (_, i) => ({ id: `f${i}` })) })
  links = sends.body.recipients.map((r: { id: string; links: { url: string }[] }) => ({ id: r.id, path: new URL(r.links[0]!.url).pathname }))
})
afterAll(async () => {
  storeDown = false
  await s.stop()
})

async function click(base: string, path: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now()
  const r = await fetch(base + path, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' } })
  await r.arrayBuffer()
  return { status: r.status, ms: performance.now() - t0 }
}

async function clickCount(ids: string[]): Promise<Map<string, number>> {
  const rs = await s.deps.events.client.query({
    query: `SELECT recipient_id, count() AS n FROM ${s.deps.events.db}.events WHERE campaign_id = 'faults' AND recipient_id IN {ids:Array(String)} GROUP BY recipient_id`,
    query_params: { ids },
    format: 'JSONEachRow',
  })
  return new Map(((await rs.json()) as Array<{ recipient_id: string; n: string | number }>).map((r) => [r.recipient_id, Number(r.n)]))
}

describe('store outage', () => {
  it('keeps answering fast while inserts fail; on recovery every event arrives exactly once', async () => {
    await Promise.all(links.slice(560, 580).map((l) => click(s.url, l.path)))
    storeDown = true
    const batch = links.slice(0, 300)
    const results: Array<{ status: number; ms: number }> = []
    for (let i = 0; i < batch.length; i += 10) results.push(...(await Promise.all(batch.slice(i, i + 10).map((l) => click(s.url, l.path)))))
    expect(results.every((r) => r.status === 302)).toBe(true)
    const sorted = results.map((r) => r.ms).sort((a, b) => a - b)
    // Generous bounds for a loaded CI machine: the edge never waits for the store.
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(50)
    expect(sorted[Math.floor(sorted.length * 0.99)]).toBeLessThan(250)
    // The writer meets the outage at its next flush: after the insert in flight when the store went
    // down, which takes longer on a loaded machine (a fixed 600 ms wait failed there once).
    for (const until = Date.now() + 10_000; s.deps.writer.stats.failures === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100))
    expect(s.deps.writer.stats.failures).toBeGreaterThan(0)
    expect((await clickCount(batch.map((l) => l.id))).size).toBe(0)
    storeDown = false
    await s.flush()
    const counts = await clickCount(batch.map((l) => l.id))
    expect(batch.filter((l) => counts.get(l.id) !== 1)).toEqual([])
    expect(s.deps.writer.stats.retries).toBeGreaterThan(0)
  })
})

describe('journal write failure (disk full)', () => {
  let server: Server
  let base: string
  let diskFull = true
  const logLines: string[] = []

  beforeAll(async () => {
    // The same app and stores, with a journal whose write(2) fails like a full disk.
    const log = createLogger('info', (l) => logLines.push(l))
    const journal = new Journal({
      dir: s.deps.config.journalDir + '-failing',
      fsyncIntervalMs: 0,
      maxBytes: 1 << 30,
      log,
      write: (fd, buf, off, len) => {
        if (diskFull) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        return writeSync(fd, buf, off, len)
      },
    })
    const edge = createEdge({ journal, links: s.deps.links, tokens: s.deps.tokens, trustProxy: false, ipV4Prefix: 24, ipV6Prefix: 48 })
    server = createServer({ ...s.deps, journal, edge }).server
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it('still redirects, logs the loss once, says so in /readyz and /metrics', async () => {
    const results = await Promise.all(links.slice(300, 350).map((l) => click(base, l.path)))
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(302))
    const losses = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'journal_loss')
    expect(losses.length).toBe(1)
    expect(losses[0]).toMatchObject({ level: 'error', message: expect.stringContaining('ENOSPC') })
    const ready = await fetch(base + '/readyz')
    expect(ready.status).toBe(503)
    const body = (await ready.json()) as { checks: { journal: { ok: boolean; message: string } }; journal?: unknown }
    expect(body.checks.journal.ok).toBe(false)
    expect(body.checks.journal.message).toContain('ENOSPC')
    // Public: status only; the count is in /metrics, below.
    expect(body.journal).toBeUndefined()
    const metrics = await (await fetch(base + '/metrics', { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
    expect(metrics).toMatch(/^sillage_events_dropped_total 50$/m)
    expect(metrics).toMatch(/^sillage_journal_write_errors_total [1-9]/m)
    expect(metrics).toMatch(/^sillage_http_responses_total\{route="click",status="302"\} 50$/m)
    // The clicks came on fresh connections: the front answered them; /readyz and /metrics went to node:http.
    expect(metrics).toMatch(/^sillage_edge_front_answers_total 50$/m)
    expect(metrics).toMatch(/^sillage_edge_front_handoffs_total [1-9]/m)
    // The disk has room again: events are journaled again.
    diskFull = false
    expect((await click(base, links[351]!.path)).status).toBe(302)
    const after = await (await fetch(base + '/metrics', { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
    expect(after).toMatch(/^sillage_events_journaled_total 1$/m)
  })

  it('/metrics wants a token', async () => {
    const refused = await fetch(base + '/metrics')
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    expect((await fetch(base + '/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
  })
})

describe('slow and malformed clients', () => {
  let server: Server
  let base: string
  let port: number

  beforeAll(async () => {
    server = createServer(s.deps, { limits: { ...SERVER_LIMITS, headersTimeout: 1_000, requestTimeout: 2_000, connectionsCheckingInterval: 200 } }).server
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    port = (server.address() as AddressInfo).port
    base = `http://127.0.0.1:${port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it('cuts slowloris connections at the headers timeout, and serves others meanwhile', async () => {
    const sockets = Array.from({ length: 200 }, () => {
      const sock = connect(port, '127.0.0.1')
      sock.on('error', () => undefined)
      sock.write(`GET ${links[0]!.path} HTTP/1.1\r\nHost: x\r\n`)
      const drip = setInterval(() => sock.writable && sock.write('X-Slow: 1\r\n'), 200)
      const closed = new Promise<number>((r) => sock.once('close', () => r(performance.now())))
      return { sock, drip, closed }
    })
    const t0 = performance.now()
    const normal = await Promise.all(links.slice(400, 450).map((l) => click(base, l.path)))
    expect(normal.every((r) => r.status === 302 && r.ms < 1_000)).toBe(true)
    const closedAt = await Promise.all(sockets.map((x) => x.closed))
    for (const x of sockets) clearInterval(x.drip)
    // Cut within the headers timeout plus a check interval and some slack for a loaded machine.
    expect(Math.max(...closedAt) - t0).toBeLessThan(4_000)
  }, 15_000)

  it('answers oversized headers with 431 and malformed paths without stalling', async () => {
    const big = await rawStatus(port, `GET ${links[0]!.path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(big).toBe(431)
    const longUrl = await rawStatus(port, `GET /c/${'x'.repeat(20_000)}/t HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(longUrl).toBe(431)
    const cases: Array<[string, number]> = [
      ['/c/', 404],
      ['/c//token', 404],
      [`/c/${'x'.repeat(200)}/token`, 404],
      [`${links[0]!.path.split('/').slice(0, 3).join('/')}/${'%'.repeat(600)}`, 302],
      [`${links[0]!.path.split('/').slice(0, 3).join('/')}/not.a-token`, 302],
      ['/o/%E0%A4%A/x.gif', 200],
      ['/o/faults/garbage.gif', 200],
      ['/o/', 200],
      ['/cx/anything', 404],
    ]
    for (const [path, status] of cases) expect([path, (await click(base, path)).status]).toEqual([path, status])
  })

  it('a flood of unknown link ids costs at most one metadata query a second and grows nothing', async () => {
    const db = s.deps.meta.db as unknown as { select: (...a: unknown[]) => unknown }
    const select = db.select
    let queries = 0
    db.select = function (this: unknown, ...a: unknown[]) {
      queries++
      return select.apply(this, a)
    }
    const sizeBefore = s.deps.links.size
    const heapBefore = process.memoryUsage().heapUsed
    const t0 = performance.now()
    try {
      for (let round = 0; round < 10; round++) {
        const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => click(base, `/c/unknown${round}x${i}/tok`)))
        expect(rs.every((r) => r.status === 404)).toBe(true)
      }
    } finally {
      db.select = select
    }
    const seconds = (performance.now() - t0) / 1000
    // A refresh is three selects (campaigns, links, tracking domains): at most one refresh a second
    // for the misses, plus the periodic one (LINK_REFRESH_MS, 5 s). Over T seconds each can fire
    // at both ends of the span: ⌈T⌉ + 1 and ⌈T/5⌉ + 1 (CI once counted 46 selects against a bound
    // of 45 that left out the periodic one's second end).
    expect(queries).toBeLessThanOrEqual(3 * (Math.ceil(seconds) + 1 + Math.ceil(seconds / 5) + 1))
    expect(s.deps.links.size).toBe(sizeBefore)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
  }, 30_000)
})

function rawStatus(port: number, raw: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1')
    let data = ''
    sock.on('data', (d) => {
      data += d.toString()
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
      if (m) {
        resolve(Number(m[1]))
        sock.destroy()
      }
    })
    sock.on('error', reject)
    sock.on('close', () => reject(new Error(`closed without a status: ${data.slice(0, 80)}`)))
    sock.write(raw)
  })
}

