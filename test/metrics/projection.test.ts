import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recipientFacts } from '../../src/metrics/sql.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { insertEvents, insertSends } from './fixture.js'

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { id: 'pj', name: 'projection' })
  await insertSends(s, [
    { campaign_id: 'pj', recipient_id: 'a', sent_at: '2026-01-05 10:00:00.000' },
    { campaign_id: 'pj', recipient_id: 'b', sent_at: '2026-01-05 10:00:00.000' },
  ])
  await insertEvents(s, [
    { type: 'open', ts: '2026-01-05 10:05:00.000', campaign_id: 'pj', recipient_id: 'a' },
    { type: 'open', ts: '2026-01-05 10:06:00.000', campaign_id: 'pj', recipient_id: 'b' },
    { type: 'open', ts: '2026-01-05 10:07:00.000', campaign_id: 'pj', recipient_id: 'b' },
  ])
})
afterAll(async () => {
  await s.stop()
})

describe('p_recipient_facts projection (migration 0300)', () => {
  it('serves the per-recipient query', async () => {
    const db = s.deps.events.db
    const facts = recipientFacts(db, { traffic: 'human' }, 'campaign_id = {campaign:String}')
    const rs = await s.deps.events.client.query({ query: `EXPLAIN ${facts.sql}`, query_params: { campaign: 'pj' }, format: 'TabSeparated' })
    expect(await rs.text()).toContain('p_recipient_facts')
  })

  it('follows reclassification (ALTER UPDATE) and erasure (ALTER DELETE)', async () => {
    const db = s.deps.events.db
    expect((await s.api('GET', '/v1/campaigns/pj/stats')).body.opens).toMatchObject({ total: 3, unique: 2 })
    await s.deps.events.client.command({
      query: `ALTER TABLE ${db}.events UPDATE class = 'machine_open', reasons = ['burst'] WHERE recipient_id = 'b' SETTINGS mutations_sync = 2`,
    })
    const after = (await s.api('GET', '/v1/campaigns/pj/stats')).body
    expect(after.opens).toMatchObject({ total: 1, unique: 1 })
    expect(after.machine.opens).toEqual({ total: 2, byReason: { burst: 2 } })
    expect((await s.api('GET', '/v1/campaigns/pj/segments?by=variant')).body.rows[0]).toMatchObject({ sent: 2, uniqueOpeners: 1 })
    await s.deps.events.client.command({ query: `ALTER TABLE ${db}.events DELETE WHERE recipient_id = 'a' SETTINGS mutations_sync = 2` })
    expect((await s.api('GET', '/v1/campaigns/pj/stats')).body.opens).toMatchObject({ total: 0, unique: 0 })
    expect((await s.api('GET', '/v1/campaigns/pj/stats?traffic=all')).body.opens).toMatchObject({ total: 2, unique: 1 })
  })
})
