import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { timelinePageQuery } from '../../src/metrics/timeline.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { insertEvents } from './fixture.js'

interface Page {
  events: Array<{ eventId: string; type: string; campaignId: string; class: string; reasons: string[]; amount: string | null; conversion: { orderId: string; type: string } | null }>
}

let s: TestServer
const db = () => s.deps.events.db
const conversionId = randomUUID()

beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { id: 'ta', name: 'timeline a' })
  await s.api('POST', '/v1/campaigns', { id: 'tb', name: 'timeline b' })
  await insertEvents(s, [
    { type: 'open', ts: '2026-02-01 09:00:00.000', campaign_id: 'ta', recipient_id: 'p' },
    { type: 'click', ts: '2026-02-01 09:01:00.000', campaign_id: 'ta', recipient_id: 'p' },
    { type: 'open', ts: '2026-02-02 09:00:00.000', campaign_id: 'tb', recipient_id: 'p' },
    { type: 'open', ts: '2026-02-02 09:00:00.000', campaign_id: 'tb', recipient_id: 'q' },
  ])
  // A conversion whose kind lives only in `extra`, a column the projection leaves out.
  await s.deps.events.client.insert({
    table: `${db()}.events`,
    values: [{ event_id: conversionId, type: 'conversion', ts: '2026-02-03 10:00:00.000', campaign_id: 'tb', recipient_id: 'p', token_valid: true, method: 'POST', class: 'human', reasons: [], amount: '12.5', currency: 'EUR', order_id: 'o-1', extra: JSON.stringify({ kind: 'signup' }) }],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
  })
})
afterAll(async () => {
  await s.stop()
})

async function plan(): Promise<string> {
  const q = timelinePageQuery(db(), 'p', { traffic: 'all' }, { limit: 51 })
  const rs = await s.deps.events.client.query({ query: `EXPLAIN ${q.sql}`, query_params: q.params, format: 'TabSeparated' })
  return rs.text()
}

const timeline = async (query = ''): Promise<Page> => (await s.api('GET', `/v1/recipients/p/timeline${query}`)).body as Page

describe('p_by_recipient projection (migration 0500)', () => {
  it('serves the timeline page query', async () => {
    expect(await plan()).toContain('p_by_recipient')
  })

  it('gives a conversion its extra read from the table', async () => {
    const page = await timeline()
    expect(page.events.map((e) => [e.type, e.campaignId])).toEqual([['conversion', 'tb'], ['open', 'tb'], ['click', 'ta'], ['open', 'ta']])
    expect(page.events[0]).toMatchObject({ eventId: conversionId, amount: '12.50', conversion: { orderId: 'o-1', type: 'signup' } })
  })

  it('follows reclassification (ALTER UPDATE) and erasure (ALTER DELETE)', async () => {
    await s.deps.events.client.command({
      query: `ALTER TABLE ${db()}.events UPDATE class = 'machine_open', reasons = ['apple_mpp'] WHERE recipient_id = 'p' AND campaign_id = 'tb' AND type = 'open' SETTINGS mutations_sync = 2`,
    })
    expect(await plan()).toContain('p_by_recipient')
    expect((await timeline('?traffic=human')).events.map((e) => e.type)).toEqual(['conversion', 'click', 'open'])
    const all = await timeline()
    expect(all.events[1]).toMatchObject({ type: 'open', campaignId: 'tb', class: 'machine_open', reasons: ['apple_mpp'] })

    await s.deps.events.client.command({ query: `ALTER TABLE ${db()}.events DELETE WHERE recipient_id = 'p' AND campaign_id = 'ta' SETTINGS mutations_sync = 2` })
    expect(await plan()).toContain('p_by_recipient')
    expect((await timeline()).events.map((e) => [e.type, e.campaignId])).toEqual([['conversion', 'tb'], ['open', 'tb']])
    expect((await timeline('?traffic=human')).events.map((e) => e.type)).toEqual(['conversion'])
    expect((await s.api('GET', '/v1/recipients/q/timeline')).body.events).toHaveLength(1)
  })
})
