import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventStore, queryRows, type EventStore } from '../../src/store/clickhouse.js'
import { migrateClickHouse } from '../../src/store/clickhouse-migrate.js'
import { startClickHouseHttpDouble, type ClickHouseHttpDouble } from '../support/clickhouse-http-double.js'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'

// The CLICKHOUSE_URL code path (the client's HTTP transport) over the real embedded engine,
// through a transport double: see test/support/clickhouse-http-double.ts.
let double: ClickHouseHttpDouble
const serverStore = (timeoutMs = 30_000): EventStore =>
  createEventStore({ url: double.url, database: `h_${randomUUID().replaceAll('-', '')}`, path: '', requestTimeoutMs: timeoutMs })

beforeAll(async () => {
  double = await startClickHouseHttpDouble()
})
afterAll(async () => {
  await double.close()
})

describe('event store over HTTP', () => {
  it('applies the migrations once, and a retried batch is dropped by its token', async () => {
    const store = serverStore()
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
    await store.close()
  })

  it('binds parameters of every type the queries use, and answers errors as ClickHouse does', async () => {
    const store = serverStore()
    const [row] = await queryRows<{ a: string[]; n: number; s: string; d: string }>(
      store,
      "SELECT {a:Array(String)} AS a, {n:UInt32} AS n, {s:String} AS s, toString({d:Decimal(18,4)}) AS d",
      { a: ["it's", 'b\\c', 'tab\there'], n: 5, s: "l'été\n", d: '12.5000' },
    )
    expect(row).toEqual({ a: ["it's", 'b\\c', 'tab\there'], n: 5, s: "l'été\n", d: '12.5' })
    await expect(queryRows(store, 'SELECT nope FROM system.one')).rejects.toMatchObject({ code: '47', type: 'UNKNOWN_IDENTIFIER' })
    await store.close()
  })
})

describe('the server on CLICKHOUSE_URL', () => {
  let s: TestServer
  let store: EventStore
  beforeAll(async () => {
    store = serverStore(3_000)
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
