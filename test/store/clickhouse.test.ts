import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createEventStore, queryRows, type EventStore } from '../../src/store/clickhouse.js'
import { migrateClickHouse, splitStatements } from '../../src/store/clickhouse-migrate.js'
import { CHDB_PATH, testEventStore } from '../support/stores.js'

const SERVER_URL = process.env.CLICKHOUSE_TEST_URL

if (!SERVER_URL) {
  console.warn('ClickHouse-server tests SKIPPED: set CLICKHOUSE_TEST_URL=http://host:8123 to run them (the embedded engine ran instead)')
}

function contract(name: string, make: () => EventStore) {
  describe(`event store: ${name}`, () => {
    it('applies the numbered migrations once and records them', async () => {
      const store = make()
      const first = await migrateClickHouse(store)
      expect(first).toContain('0001_events_and_sends.sql')
      expect(await migrateClickHouse(store)).toEqual([])
      const rows = await queryRows<{ name: string }>(store, `SELECT name FROM ${store.db}.schema_migrations ORDER BY name`)
      expect(rows.map((r) => r.name)).toEqual(first)
    })

    it('drops a batch retried with the same dedup token, and keeps later batches with their own', async () => {
      const store = make()
      await migrateClickHouse(store)
      const row = (id: string) => ({ event_id: id, type: 'click', ts: '2026-11-23 10:00:00.000', campaign_id: 'c', recipient_id: 'r', reasons: [], amount: '0' })
      const insert = (ids: string[], token: string) =>
        store.client.insert({ table: `${store.db}.events`, values: ids.map(row), format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: token, async_insert: 0 } })
      await insert(['a', 'b'], 'batch-1')
      await insert(['a', 'b'], 'batch-1')
      await insert(['c'], 'batch-2')
      const [n] = await queryRows<{ n: number }>(store, `SELECT count() AS n FROM ${store.db}.events WHERE campaign_id = {c:String}`, { c: 'c' })
      expect(Number(n!.n)).toBe(3)
    })
  })
}

contract('embedded chDB', testEventStore)
if (SERVER_URL) contract(`server at ${SERVER_URL}`, () => createEventStore({ url: SERVER_URL, database: `t_${randomUUID().replaceAll('-', '')}`, path: '' }))
describe.skipIf(SERVER_URL)('event store: ClickHouse server', () => {
  it.skip('needs CLICKHOUSE_TEST_URL', () => {})
})

describe('embedded engine rules', () => {
  it('refuses a second data directory in one process (libchdb binds one)', () => {
    testEventStore()
    expect(() => createEventStore({ database: 'x', path: CHDB_PATH + '-other' })).toThrow(/one data directory per process/)
  })

  it('splits migration files on statement ends, not on semicolons in comments', () => {
    expect(splitStatements("-- a; comment\nCREATE TABLE a (x String COMMENT 'a;b');\nSELECT 1;\n")).toEqual([
      "CREATE TABLE a (x String COMMENT 'a;b')",
      'SELECT 1',
    ])
  })
})
