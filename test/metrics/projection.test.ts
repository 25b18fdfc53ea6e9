import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaignTotalsSql } from '../../src/metrics/campaign-stats.js'
import { campaignFacts, recipientFacts } from '../../src/metrics/sql.js'
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

describe('p_recipient_traffic and p_campaign_classes projections (migrations 0600, 0610)', () => {
  it('serve the per-recipient and campaign-level queries of every traffic without a window, and only those', async () => {
    const db = s.deps.events.db
    const explain = async (sql: string, params: Record<string, string>) =>
      (await s.deps.events.client.query({ query: `EXPLAIN projections = 1 ${sql}`, query_params: { campaign: 'pj', campaigns: ['pj'] as never, ...params }, format: 'TabSeparated' })).text()
    for (const traffic of ['human', 'machine', 'all'] as const) {
      for (const facts of [recipientFacts(db, { traffic }, 'campaign_id IN {campaigns:Array(String)}'), campaignFacts(db, { traffic })]) {
        expect(await explain(facts.sql, facts.params), traffic).toContain('ReadFromMergeTree (p_recipient_traffic)')
      }
      const windowed = campaignFacts(db, { traffic, from: Date.parse('2026-01-05T10:06:00Z') })
      expect(await explain(windowed.sql, windowed.params)).not.toContain('p_recipient_traffic')
    }
    for (const traffic of ['human', 'machine', 'all'] as const) {
      const totals = campaignTotalsSql(db, { traffic })
      expect(await explain(totals.sql, totals.params), traffic).toContain('ReadFromMergeTree (p_campaign_classes)')
      const windowed = campaignTotalsSql(db, { traffic, to: Date.parse('2026-01-05T10:06:30Z') })
      expect(await explain(windowed.sql, windowed.params)).not.toContain('p_campaign_classes')
    }
    // The projection it replaces is gone: inserts no longer pay for it.
    const rs = await s.deps.events.client.query({ query: `SHOW CREATE TABLE ${db}.events`, format: 'TabSeparated' })
    expect(await rs.text()).not.toContain('p_recipient_facts')
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
