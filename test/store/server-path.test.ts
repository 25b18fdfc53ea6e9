import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeEvent } from '../../src/events/event.js'
import { MAX_BATCH_UA_BYTES } from '../../src/events/insert.js'
import { Journal } from '../../src/events/journal.js'
import { EventWriter } from '../../src/events/writer.js'
import { createLogger } from '../../src/logger.js'
import { createEventStore, queryRows, type EventStore } from '../../src/store/clickhouse.js'
import { migrateClickHouse } from '../../src/store/clickhouse-migrate.js'
import { startClickHouseHttpDouble, type ClickHouseHttpDouble } from '../support/clickhouse-http-double.js'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'

// The CLICKHOUSE_URL code path (the client's HTTP transport) over the real embedded engine,
// through a transport double: see test/support/clickhouse-http-double.ts.
let double: ClickHouseHttpDouble
const silent = createLogger('silent')
// One database for the file: the server below starts on the one the first test migrated (each
// migration over the double is a few dozen statements, seconds on a loaded machine).
const database = `h_${randomUUID().replaceAll('-', '')}`
const serverStore = (timeoutMs = 30_000): EventStore => createEventStore({ url: double.url, database, path: '', requestTimeoutMs: timeoutMs })

beforeAll(async () => {
  double = await startClickHouseHttpDouble()
})
afterAll(async () => {
  await double.close()
})

describe('event store over HTTP', () => {
  let store: EventStore
  beforeAll(() => {
    store = serverStore()
  })
  afterAll(async () => {
    await store.close()
  })

  it('applies the migrations once, and a retried batch is dropped by its token', async () => {
    const first = await migrateClickHouse(store)
    expect(first).toContain('0001_events_and_sends.sql')
    expect(await migrateClickHouse(store)).toEqual([])
    const row = (id: string) => ({ event_id: id, type: 'click', ts: '2026-11-23 10:00:00.000', campaign_id: 'c', recipient_id: 'r', reasons: [], amount: '0' })
    const insert = (ids: string[], token?: string) =>
      store.client.insert({ table: `${store.db}.events`, values: ids.map(row), format: 'JSONEachRow', clickhouse_settings: token ? { insert_deduplication_token: token } : {} })
    await insert(['a', 'b'], 'batch-1')
    await insert(['a', 'b'], 'batch-1')
    // On a server a setting is the request's: this insert has no token and must not inherit one.
    await insert(['c'])
    await insert(['d'])
    const [n] = await queryRows<{ n: number }>(store, `SELECT count() AS n FROM ${store.db}.events`)
    expect(Number(n!.n)).toBe(4)
  })

  it('binds parameters of every type the queries use, and answers errors as ClickHouse does', async () => {
    const [row] = await queryRows<{ a: string[]; n: number; s: string; d: string }>(
      store,
      "SELECT {a:Array(String)} AS a, {n:UInt32} AS n, {s:String} AS s, toString({d:Decimal(18,4)}) AS d",
      { a: ["it's", 'b\\c', 'tab\there'], n: 5, s: "l'été\n", d: '12.5000' },
    )
    expect(row).toEqual({ a: ["it's", 'b\\c', 'tab\there'], n: 5, s: "l'été\n", d: '12.5' })
    await expect(queryRows(store, 'SELECT nope FROM system.one')).rejects.toMatchObject({ code: '47', type: 'UNKNOWN_IDENTIFIER' })
  })

  it('keeps a batch of many distinct user agents under the server\'s URL limit (they travel as bound parameters)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sillage-http-writer-'))
    const journal = new Journal({ dir, fsyncIntervalMs: 0, maxBytes: 1 << 26, log: silent })
    // 1.5 × the per-batch bound of distinct UA text, in a character that URL-encodes to 6 bytes:
    // a full batch's parameters are ~800 KB of URL, under ClickHouse's 1 MiB.
    const uaChars = 1000
    const n = Math.ceil((1.5 * MAX_BATCH_UA_BYTES) / uaChars)
    for (let i = 0; i < n; i++) {
      await journal.appendAsync(encodeEvent({
        eventId: `u${i}`, type: 'open', ts: 1_760_000_000_000 + i, campaignId: 'uas', linkId: '', recipientId: `r${i}`, tokenValid: true, method: 'GET',
        ip: '203.0.113.0', userAgent: `${i} ` + 'é'.repeat(uaChars), referer: '', prefetch: '', class: 'human', reasons: [], proxy: '',
        classifierVersion: 2, amount: '', currency: '', orderId: '', extra: '',
      }))
    }
    const writer = new EventWriter({ journal, store, batchSize: 100_000, flushIntervalMs: 60_000, log: silent })
    await writer.start()
    await writer.flush()
    await writer.stop()
    journal.close()
    const [row] = await queryRows<{ n: number; u: number }>(store, `SELECT count() AS n, uniqExact(user_agent) AS u FROM ${store.db}.events WHERE campaign_id = 'uas'`)
    expect(row).toEqual({ n, u: n })
    // The batch was split by the bound, never refused by the server for its URL.
    expect(double.log.filter((q) => q.startsWith(`INSERT INTO ${store.db}.events`)).length).toBeGreaterThanOrEqual(2)
  }, 60_000)
})

describe('the server on CLICKHOUSE_URL', () => {
  let s: TestServer
  let store: EventStore
  beforeAll(async () => {
    store = serverStore(8_000)
    s = await startTestServer({ events: store })
  })
  afterAll(async () => {
    await s.stop()
    await store.close()
  })

  async function clickOnce(campaign: string): Promise<void> {
    expect((await s.api('POST', '/v1/campaigns', { id: campaign, name: campaign })).status).toBe(201)
    const link = await s.api('POST', `/v1/campaigns/${campaign}/links`, { url: 'https://shop.example/x' })
    const sends = await s.api('POST', `/v1/campaigns/${campaign}/sends`, { recipients: [{ id: 'dupond' }] })
    expect(sends.status).toBe(201)
    const r = await readerFetch(sends.body.recipients[0].links.find((l: { id: string }) => l.id === link.body.id).url)
    expect(r.status).toBe(302)
  }
  const clicks = async (campaign: string) => {
    const [row] = await queryRows<{ n: number }>(store, `SELECT count() AS n FROM ${store.db}.events WHERE campaign_id = {c:String} AND type = 'click'`, { c: campaign })
    return Number(row!.n)
  }

  it('serves a campaign end to end: sends, a click, the stats', async () => {
    await clickOnce('plain')
    await s.flush()
    const stats = await s.api('GET', '/v1/campaigns/plain/stats?traffic=all')
    expect(stats.status).toBe(200)
    expect(stats.body.sent).toBe(1)
    expect(stats.body.clicks.total).toBe(1)
  })

  // Each fault hits the writer's insert of the events: the batch is retried with its token and stored once.
  for (const fault of ['close-after', 'close-before', 'status-500', 'hang'] as const) {
    it(`stores an event exactly once when the server ${fault === 'hang' ? 'times out' : fault === 'status-500' ? 'answers 500' : fault === 'close-after' ? 'drops the connection after the insert' : 'drops the connection before the insert'}`, async () => {
      double.log.length = 0
      double.inject(fault, /^INSERT INTO \w+\.events/)
      const campaign = `fault_${fault.replace('-', '_')}`
      await clickOnce(campaign)
      // flush() reports the failed attempt; the writer retries the same range with the same token.
      for (let attempt = 0; ; attempt++) {
        try {
          await s.flush()
          break
        } catch (err) {
          if (attempt >= 10) throw err
          await new Promise((r) => setTimeout(r, 300))
        }
      }
      expect(double.log.filter((q) => q.startsWith(`INSERT INTO ${store.db}.events`)).length).toBeGreaterThan(1)
      expect(await clicks(campaign)).toBe(1)
    })
  }
})
