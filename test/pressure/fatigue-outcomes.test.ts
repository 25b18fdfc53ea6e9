import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chDateTime, queryRows, type EventStore } from '../../src/store/clickhouse.js'
import type { MetaStore } from '../../src/store/meta.js'
import { recipientErasures, sendOutcomesPending } from '../../src/store/schema.js'
import { catchUpSendOutcomes } from '../../src/store/send-outcomes.js'
import { BROWSER_UA, startTestServer, type TestServer } from '../support/server.js'
import { testEventStore, testMetaStore } from '../support/stores.js'

/**
 * The sends' outcome bits kept at write time (recipient_send_outcomes, migration 3600) follow what
 * happens after a row was computed: an open stored after a read, a send recorded late with an earlier
 * time, events stored by a process that stopped before any read (caught up by the next one). The
 * reclassified open and the erased recipient are in engagement.test.ts ("fatigue").
 */
const DAY = 86_400_000
const T0 = Date.parse('2026-03-01T08:00:00Z')
const at = (day: number) => T0 + day * DAY
const iso = (ms: number) => new Date(ms).toISOString()
const curve = `/v1/pressure/fatigue?window=P30D&category=g&buckets=0,1,2&from=${iso(at(-1))}&to=${iso(at(10))}`

let now = T0
const dataDir = mkdtempSync(join(tmpdir(), 'sillage-fatigue-'))
let events: EventStore
let meta: MetaStore
let s: TestServer
const urls = new Map<string, string>()

async function send(campaign: string, ids: string[], day: number) {
  const r = await s.api('POST', `/v1/campaigns/${campaign}/sends`, { recipients: ids.map((id) => ({ id })), sentAt: iso(at(day)) })
  expect(r.status).toBe(201)
  for (const x of r.body.recipients as Array<{ id: string; pixelUrl: string }>) urls.set(`${campaign}/${x.id}`, x.pixelUrl)
}

async function open(campaign: string, id: string, day: number) {
  now = at(day)
  const r = await fetch(urls.get(`${campaign}/${id}`)!.replace(/^http:\/\/[^/]+/, s.url), { headers: { 'user-agent': BROWSER_UA } })
  expect(r.status).toBe(200)
  await r.arrayBuffer()
}

const buckets = async () => (await s.api('GET', curve)).body.buckets.map((b: { label: string; sends: number; opened: number }) => [b.label, b.sends, b.opened])
const storedBits = async (id: string) =>
  (await queryRows<{ bits: number[] }>(events, `SELECT bits FROM ${events.db}.recipient_send_outcomes FINAL WHERE recipient_id = {r:String}`, { r: id }))[0]?.bits.map(Number)

beforeAll(async () => {
  events = testEventStore()
  meta = await testMetaStore()
  s = await startTestServer({ dataDir, events, meta, clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  for (const id of ['g1', 'g2', 'g3']) await s.api('POST', '/v1/campaigns', { id, name: id, settings: { category: 'g' } })
  now = at(2)
  await send('g1', ['u1', 'u2'], 0)
  await send('g2', ['u1'], 2)
})
afterAll(async () => {
  await s.stop()
  await meta.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('the sends\' outcome bits kept with them', () => {
  it('an open stored after a read flips its send\'s bit; a send recorded late moves the later sends\' buckets', async () => {
    expect(await buckets()).toEqual([['0', 2, 0], ['1', 1, 0], ['2+', 0, 0]])
    // u1 opens g2 after the curve was read (the row was computed at the send): the next read applies it.
    await open('g2', 'u1', 3)
    await s.flush()
    expect(await buckets()).toEqual([['0', 2, 0], ['1', 1, 1], ['2+', 0, 0]])
    // g3 recorded on day 4 as sent on day 1, between u1's g1 and g2: g2 has two sends before it now.
    now = at(4)
    await send('g3', ['u1'], 1)
    expect(await buckets()).toEqual([['0', 2, 0], ['1', 1, 0], ['2+', 1, 1]])
    expect(await storedBits('u1')).toEqual([0, 0, 1])
  })

  it('events stored by a process that stopped before any read are applied by the next one\'s first read', async () => {
    await open('g1', 'u2', 5)
    await s.flush()
    await s.stop()
    // Not applied yet: nothing read the curve since the open was stored.
    expect(await storedBits('u2')).toEqual([0])
    s = await startTestServer({ dataDir, events, meta, clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
    expect(await buckets()).toEqual([['0', 2, 1], ['1', 1, 0], ['2+', 1, 1]])
    expect(await storedBits('u2')).toEqual([1])
  })
})

/**
 * A sends call only queues its recipients (one row of send_outcomes_pending, meta 0365); the catch-up after the
 * answer, or the next curve first, recomputes them. Category h: apart from the curves above.
 */
describe('the sends\' rows recomputed after the answer', () => {
  const hCurve = `/v1/pressure/fatigue?window=P30D&category=h&buckets=0,1&from=${iso(at(-1))}&to=${iso(at(10))}`
  const hBuckets = async () => (await s.api('GET', hCurve)).body.buckets.map((b: { label: string; sends: number }) => [b.label, b.sends])
  const pending = async () => (await meta.db.select().from(sendOutcomesPending)).flatMap((r) => r.recipientIds).sort()

  it('a send is in the curve read right after POST /sends, and its queue row is gone', async () => {
    for (const id of ['h1', 'h2']) await s.api('POST', '/v1/campaigns', { id, name: id, settings: { category: 'h' } })
    await send('h1', ['v1', 'v2'], 6)
    await send('h2', ['v1'], 7)
    expect(await hBuckets()).toEqual([['0', 2], ['1+', 1]])
    expect(await storedBits('v1')).toEqual([0, 0])
    expect(await pending()).toEqual([])
  })

  it('rows left queued by a process that stopped are done by the next one\'s catch-up', async () => {
    await s.stop()
    // A send stored and queued, the process gone before its catch-up (the timer never ran).
    await events.client.insert({ table: `${events.db}.sends`, format: 'JSONEachRow', values: [{ campaign_id: 'h2', recipient_id: 'v2', sent_at: chDateTime(at(8)) }] })
    await meta.db.insert(sendOutcomesPending).values({ recipientIds: ['v2'] })
    s = await startTestServer({ dataDir, events, meta, clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
    expect(await storedBits('v2')).toEqual([0])
    await catchUpSendOutcomes(s.deps)
    expect(await storedBits('v2')).toEqual([0, 0])
    expect(await pending()).toEqual([])
    expect(await hBuckets()).toEqual([['0', 2], ['1+', 2]])
  })

  it('an erased recipient\'s queued row is dropped, and a catch-up that raced the erasure writes nothing back', async () => {
    await send('h1', ['v3', 'v4'], 8)
    // The erasure drops v3's queue row and, here, waits for a catch-up already running.
    const running = catchUpSendOutcomes(s.deps)
    expect((await s.api('DELETE', '/v1/recipients/v3')).status).toBe(200)
    await running
    expect(await storedBits('v3')).toBeUndefined()
    // Another process erased v4 (its id recorded) after this catch-up read the summaries: the row
    // the catch-up writes is deleted again.
    await meta.db.insert(sendOutcomesPending).values({ recipientIds: ['v4'] })
    await meta.db.insert(recipientErasures).values({ recipientId: 'v4' })
    await catchUpSendOutcomes(s.deps)
    expect(await storedBits('v4')).toBeUndefined()
    expect(await pending()).toEqual([])
  })
})
