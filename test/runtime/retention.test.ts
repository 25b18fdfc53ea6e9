import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeEvent, makeEvent } from '../../src/events/event.js'
import { Journal, listSegments } from '../../src/events/journal.js'
import { EventWriter } from '../../src/events/writer.js'
import { createLogger } from '../../src/logger.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { migrateClickHouse } from '../../src/store/clickhouse-migrate.js'
import { renderStatement } from '../../src/store/clickhouse-ddl.js'
import { applyRetention } from '../../src/store/retention.js'
import { catchUpSendOutcomes } from '../../src/store/send-outcomes.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { testEventStore } from '../support/stores.js'

/*
 * EVENT_RETENTION_DAYS: ClickHouse deletes what is older (TTL, applied at start, once), the
 * journal does not keep inserted events, and metrics say what retention cut. The server's clock
 * is moved to make old events and sends through the real edge and API; ClickHouse's TTL runs on
 * its own (real) clock, which is why "old" is two months back.
 */
const DAY = 86_400_000
const REAL_NOW = Date.now()
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)'
let now = REAL_NOW
let s: TestServer
const dirs: string[] = []

afterAll(async () => {
  await s?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

beforeAll(async () => {
  s = await startTestServer({ env: { EVENT_RETENTION_DAYS: '30' }, clock: () => now })
  await s.api('POST', '/v1/campaigns', { id: 'ret', name: 'Retention' })
  await s.api('POST', '/v1/campaigns/ret/links', { url: 'https://example.org/ret' })
  const click = async (recipient: string, at: number) => {
    now = at
    const sent = await s.api('POST', '/v1/campaigns/ret/sends', { recipients: [{ id: recipient }] })
    const r = await fetch(s.url + new URL(sent.body.recipients[0].links[0].url).pathname, { redirect: 'manual', headers: { 'user-agent': UA } })
    expect(r.status).toBe(302)
  }
  await click('old', REAL_NOW - 60 * DAY)
  await click('new', REAL_NOW - DAY)
  now = REAL_NOW
  // Two purchases (conversions with a recipient and items): the old one past the retention.
  const order = (who: string, sku: string, at: number) => ({ recipientId: who, orderId: `o-${who}`, amount: '5', currency: 'EUR', items: [{ sku, price: '5' }], at: new Date(at).toISOString() })
  const r = await s.api('POST', '/v1/conversions', { conversions: [order('old', 'SKU-OLD', REAL_NOW - 60 * DAY), order('new', 'SKU-NEW', REAL_NOW - DAY)] })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  await s.flush()
})

describe('retention', () => {
  it('sets the TTLs at start: whole parts of events dropped, sends row by row', async () => {
    const ddl = async (t: string) => (await queryRows<{ q: string }>(s.deps.events, `SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = {t:String}`, { db: s.deps.events.db, t }))[0]!.q
    expect(await ddl('events')).toMatch(/TTL toDateTime\(ts\) \+ toIntervalDay\(30\)/)
    expect(await ddl('events')).toMatch(/ttl_only_drop_parts = 1/)
    expect(await ddl('sends')).toMatch(/TTL toDateTime\(sent_at\) \+ toIntervalDay\(30\)/)
    expect(await ddl('purchases')).toMatch(/TTL toDateTime\(ts\) \+ toIntervalDay\(30\)/)
    expect(await ddl('customer_orders')).toMatch(/TTL toDateTime\(intDiv\(arrayMax/)
    expect(await ddl('recipient_engagement')).toMatch(/TTL toDateTime\(intDiv\(greatest\(last_engaged, .*toIntervalDay\(30\)/)
    expect(await ddl('recipient_engagement_days')).toMatch(/TTL toDateTime\(intDiv\(greatest\(last_engaged, last_unsubscribe\), 1000\)\) \+ toIntervalDay\(30\)/)
    expect(await ddl('recipient_send_outcomes')).toMatch(/TTL toDateTime\(intDiv\(arrayMax\(sent\), 1000\)\) \+ toIntervalDay\(30\)/)
  })

  it('deletes events and sends older than the retention', async () => {
    // Both clicks reached ClickHouse (a background TTL merge may already have dropped the old one).
    expect(s.deps.writer.stats.inserted).toBe(4)
    // TTL runs in merges; FINAL makes it happen now instead of within merge_with_ttl_timeout.
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.events FINAL` })
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.sends FINAL` })
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_sends FINAL` })
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_engagement FINAL` })
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_engagement_days FINAL` })
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_recent_sends FINAL` })
    // The sends' fatigue rows are recomputed after the answer (or before a curve): done now.
    await catchUpSendOutcomes(s.deps)
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_send_outcomes FINAL` })
    const left = async (table: string) => (await queryRows<{ r: string }>(s.deps.events, `SELECT recipient_id AS r FROM ${s.deps.events.db}.${table} ORDER BY r`)).map((x) => x.r)
    expect(await left('events')).toEqual(['new', 'new'])
    expect(await left('sends')).toEqual(['new'])
    // The per-recipient summary of sends (migration 2300) loses the recipient whose only send is past it.
    expect(await left('recipient_sends')).toEqual(['new'])
    // So does the cap check's table of recent sends (migration 3400), here at the retention's 30 days, not its 40.
    expect(await left('recipient_recent_sends')).toEqual(['new'])
    // And the summary of human engagement (migration 2500) the recipient whose only click is.
    expect(await left('recipient_engagement')).toEqual(['new'])
    // And its per-day summary (migration 3500) the same.
    expect(await left('recipient_engagement_days')).toEqual(['new'])
    // The sends with their outcome bits (migration 3600), as recipient_sends.
    expect(await left('recipient_send_outcomes')).toEqual(['new'])
    const after = await s.api('GET', '/v1/campaigns/ret/stats')
    expect(after.body.clicks.total).toBe(1)
    expect(after.body.sent).toBe(1)
  })

  it('deletes purchases older than the retention, and the summary of a customer whose last order is', async () => {
    const db = s.deps.events.db
    const top = async () => (await s.api('GET', `/v1/purchases/top?from=${new Date(REAL_NOW - 90 * DAY).toISOString()}`)).body.rows.map((x: { key: string }) => x.key)
    for (const table of ['purchases', 'customer_orders']) await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${db}.${table} FINAL` })
    const left = async (table: string) => (await queryRows<{ r: string }>(s.deps.events, `SELECT recipient_id AS r FROM ${db}.${table} ORDER BY r`)).map((x) => x.r)
    expect(await left('purchases')).toEqual(['new'])
    expect(await left('customer_orders')).toEqual(['new'])
    expect(await top()).toEqual(['SKU-NEW'])
  })

  it('is applied once: a restart with the same setting alters nothing, a changed one alters once', async () => {
    const same = { eventDays: 30, sendDays: 30, conversionDays: 30 }
    expect(await applyRetention(s.deps.events, same)).toEqual([])
    const apart = { eventDays: 30, sendDays: 30, conversionDays: 400 }
    expect(await applyRetention(s.deps.events, apart)).toEqual(['events_ttl', 'purchases_ttl', 'customer_orders_ttl'])
    expect(await applyRetention(s.deps.events, apart)).toEqual([])
    const q = (await queryRows<{ q: string }>(s.deps.events, `SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = 'events'`, { db: s.deps.events.db }))[0]!.q
    // Conversions kept longer share parts with clicks: rows go one by one, not whole parts.
    expect(q).toMatch(/if\(type = 'conversion', 400, 30\)/)
    expect(q).toMatch(/ttl_only_drop_parts = 0/)
    expect(await applyRetention(s.deps.events, same)).toEqual(['events_ttl', 'purchases_ttl', 'customer_orders_ttl'])
    // On a cluster every replica's table is altered (the statements go through the DDL renderer).
    expect(renderStatement('ALTER TABLE sillage.events REMOVE TTL', { cluster: 'c' })).toBe("ALTER TABLE sillage.events ON CLUSTER 'c' REMOVE TTL")
  })

  it('says in a metric answer what retention cut, by the clock', async () => {
    now = Date.parse('2026-12-01T00:00:00Z')
    const cutoff = '2026-11-01T00:00:00.000Z'
    const days = { eventDays: 30, sendDays: 30, conversionDays: 30 }
    const all = await s.api('GET', '/v1/campaigns/ret/stats')
    expect(all.body.retention).toEqual({ cutoff, partial: true, days })
    const before = await s.api('GET', '/v1/campaigns/ret/links/stats?from=2026-10-15T00:00:00Z')
    expect(before.body.retention).toEqual({ cutoff, partial: true, days })
    const inside = await s.api('GET', '/v1/campaigns/ret/timeseries?from=2026-11-02T00:00:00Z&to=2026-11-30T00:00:00Z')
    expect(inside.status).toBe(200)
    expect(inside.body.retention).toEqual({ cutoff, partial: false, days })
    // Not JSON (a CSV export): the same in headers.
    const csv = await fetch(`${s.url}/v1/campaigns/ret/audience?from=2026-10-15T00:00:00Z`, { headers: { authorization: `Bearer ${'test-admin-key-0123456789'}`, accept: 'text/csv' } })
    expect(csv.status).toBe(200)
    expect(csv.headers.get('sillage-retention-cutoff')).toBe(cutoff)
    expect(csv.headers.get('sillage-retention-partial')).toBe('true')
    // Not a metric: untouched.
    const campaign = await s.api('GET', '/v1/campaigns/ret')
    expect(campaign.body.retention).toBeUndefined()
    now = REAL_NOW
  })
})

describe('the journal after insertion', () => {
  it('closes a segment at its age limit, and the writer deletes it once inserted', async () => {
    const store = testEventStore()
    await migrateClickHouse(store)
    const log = createLogger('silent')
    const run = async (segmentMaxAgeMs: number | undefined) => {
      const dir = mkdtempSync(join(tmpdir(), 'sillage-journal-age-'))
      dirs.push(dir)
      const journal = new Journal({ dir, fsyncIntervalMs: 0, maxBytes: 1 << 30, segmentMaxAgeMs, log })
      const writer = new EventWriter({ journal, store, batchSize: 1000, flushIntervalMs: 50, log })
      await writer.start()
      await journal.appendAsync(encodeEvent(makeEvent({ eventId: `e${segmentMaxAgeMs}`, type: 'click', ts: Date.now(), campaignId: 'c', recipientId: 'r', tokenValid: true })))
      const first = journal.activeSegment
      await writer.flush()
      // Time for the age limit to pass and the writer's next drain (every 50 ms here).
      await new Promise((r) => setTimeout(r, 400))
      const left = listSegments(dir)
      await writer.stop()
      journal.close()
      return { first, left, active: journal.activeSegment }
    }
    // The default (an hour): the segment being appended to keeps the event after its insertion.
    const kept = await run(undefined)
    expect(kept.left).toEqual([kept.first])
    const aged = await run(100)
    expect(aged.active).not.toBe(aged.first)
    expect(aged.left).toEqual([aged.active])
    expect((await queryRows<{ n: number }>(store, `SELECT count() AS n FROM ${store.db}.events`))[0]!.n).toBe(2)
  })
})
