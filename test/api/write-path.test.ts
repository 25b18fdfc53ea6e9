import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { EventStore } from '../../src/store/clickhouse.js'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { testEventStore, testMetaStore } from '../support/stores.js'

async function countEvents(store: EventStore, campaign: string): Promise<number> {
  const rs = await store.client.query({ query: `SELECT count() AS n FROM ${store.db}.events WHERE campaign_id = {c:String}`, query_params: { c: campaign }, format: 'JSONEachRow' })
  return Number((await rs.json<{ n: number }>())[0]!.n)
}

async function setUp(s: TestServer, id: string, recipients: number) {
  await s.api('POST', '/v1/campaigns', { name: id, id })
  await s.api('POST', '/v1/campaigns/' + id + '/links', { url: 'https://example.com/' + id })
  const sends = await s.api('POST', `/v1/campaigns/${id}/sends`, { recipients: Array.from({ length: recipients }, (_, i) => ({ id: `r${i}` })) })
  return sends.body.recipients.map((r: { links: Array<{ url: string }> }) => r.links[0]!.url) as string[]
}

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

describe('the write path', () => {
  it('keeps events while ClickHouse refuses inserts, and inserts each exactly once when it is back', async () => {
    let failing = false
    const s = await startTestServer({ beforeInsert: () => { if (failing) throw new Error('simulated outage') } })
    cleanups.push(() => s.stop())
    const urls = await setUp(s, 'outage', 20)
    failing = true
    const started = performance.now()
    for (const url of urls) expect((await readerFetch(url)).status).toBe(302)
    // The edge does not wait for the store: 20 sequential clicks answer quickly.
    expect(performance.now() - started).toBeLessThan(5_000)
    await new Promise((r) => setTimeout(r, 300))
    expect(await countEvents(s.deps.events, 'outage')).toBe(0)
    expect(s.deps.writer.stats.failures).toBeGreaterThan(0)
    failing = false
    await s.flush()
    expect(await countEvents(s.deps.events, 'outage')).toBe(20)
    // A second drain or a replay of the same journal range adds nothing.
    await s.flush()
    expect(await countEvents(s.deps.events, 'outage')).toBe(20)
  })

  it('keeps everything across a restart on the same data directory, and inserts nothing twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sillage-restart-'))
    const events = testEventStore()
    const meta = await testMetaStore()
    cleanups.push(() => meta.close())
    // First life: the writer is stopped by an outage, so the clicks are only in the journal.
    let failing = false
    const a = await startTestServer({ dataDir, events, meta, beforeInsert: () => { if (failing) throw new Error('down') } })
    const urls = await setUp(a, 'restart', 10)
    for (const url of urls.slice(0, 4)) await readerFetch(url)
    await a.flush()
    failing = true
    for (const url of urls.slice(4)) await readerFetch(url)
    await new Promise((r) => setTimeout(r, 200))
    await a.stop()
    expect(readdirSync(join(dataDir, 'journal')).some((f) => f.endsWith('.log'))).toBe(true)

    // Second life: campaigns and links come back from the metadata store, the journal is replayed.
    const b = await startTestServer({ dataDir, events, meta })
    cleanups.push(() => b.stop())
    await b.flush()
    expect(await countEvents(b.deps.events, 'restart')).toBe(10)
    const r = await readerFetch(urls[0]!.replace(a.url, b.url))
    expect(r.status).toBe(302)
    expect(r.headers.get('location')).toBe('https://example.com/restart')
    await b.flush()
    expect(await countEvents(b.deps.events, 'restart')).toBe(11)
    const stats = await b.api('GET', '/v1/campaigns/restart/stats')
    expect(stats.body.sent).toBe(10)
    expect(stats.body.clicks).toMatchObject({ total: 11, unique: 10 })
  })

  it('replays a batch whose insert may have happened with its own dedup token, so it counts once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sillage-replay-'))
    const events = testEventStore()
    const meta = await testMetaStore()
    cleanups.push(() => meta.close())
    // No timed insert: the five clicks go in as one batch at flush, the range replayed below.
    const a = await startTestServer({ dataDir, events, meta, env: { FLUSH_INTERVAL_MS: '60000' } })
    const urls = await setUp(a, 'replay', 5)
    for (const url of urls) await readerFetch(url)
    await a.flush()
    await a.stop()
    expect(await countEvents(events, 'replay')).toBe(5)

    // What a crash between the insert and the checkpoint leaves: the range recorded as pending.
    const cpFile = join(dataDir, 'journal', 'checkpoint.json')
    const cp = JSON.parse(readFileSync(cpFile, 'utf8')) as { segment: number; offset: number }
    writeFileSync(cpFile, JSON.stringify({ segment: cp.segment, offset: 0, pending: { segment: cp.segment, start: 0, end: cp.offset } }))

    const b = await startTestServer({ dataDir, events, meta })
    cleanups.push(() => b.stop())
    await b.flush()
    expect(await countEvents(events, 'replay')).toBe(5)
  })
})
