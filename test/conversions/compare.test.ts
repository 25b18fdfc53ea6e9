import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chDateTime } from '../../src/store/clickhouse.js'
import { normalCdf } from '../../src/metrics/statistics.js'
import { startTestServer, type TestServer } from '../support/server.js'

const T0 = Date.parse('2026-04-01T09:00:00Z')
let s: TestServer

beforeAll(async () => {
  s = await startTestServer({ clock: () => T0 + 86_400_000 })
  await s.api('POST', '/v1/campaigns', { name: 'AB', id: 'ab' })
  const link = (await s.api('POST', '/v1/campaigns/ab/links', { url: 'https://shop.example/' })).body.id
  const ids = (v: string) => Array.from({ length: 40 }, (_, i) => `${v}${i}`)
  // And a seed list sent without a variant: in no group of a variant comparison.
  const seeds = ['seed1', 'seed2', 'seed3'].map((id) => ({ id }))
  await s.api('POST', '/v1/campaigns/ab/sends', { recipients: [...ids('a').map((id) => ({ id, variant: 'A' })), ...ids('b').map((id) => ({ id, variant: 'B' })), ...seeds] })
  // A: 20 of 40 click and buy for 10 EUR; B: 2 of 40.
  const buyers = [...ids('a').slice(0, 20), ...ids('b').slice(0, 2)]
  await s.deps.events.client.insert({
    table: `${s.deps.events.db}.events`,
    values: buyers.map((r) => ({ event_id: `k-${r}`, type: 'click', ts: chDateTime(T0), campaign_id: 'ab', link_id: link, recipient_id: r, token_valid: true, class: 'human' })),
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
  })
  const r = await s.api('POST', '/v1/conversions', {
    conversions: buyers.map((r) => ({ recipientId: r, campaignId: 'ab', orderId: `o-${r}`, amount: '10', currency: 'EUR', at: new Date(T0 + 60_000).toISOString() })),
  })
  expect(r.body.created).toBe(22)
  await s.flush()
})
afterAll(async () => {
  await s.stop()
})

describe('GET /v1/campaigns/:id/compare/conversions', () => {
  it('compares conversion rates with the proportion test', async () => {
    const r = await s.api('GET', '/v1/campaigns/ab/compare/conversions?by=variant')
    expect(r.status).toBe(200)
    expect(r.body.rows.map((x: { key: string; successes: number; trials: number }) => [x.key, x.successes, x.trials])).toEqual([
      ['A', 20, 40],
      ['B', 2, 40],
    ])
    expect(r.body.test).toMatchObject({ name: 'two_proportion_z', significant: true, winner: 'A' })
  })

  it('compares revenue per recipient with a Welch test, exact values beside', async () => {
    const r = await s.api('GET', '/v1/campaigns/ab/compare/conversions?by=variant&metric=revenue_per_recipient')
    expect(r.status).toBe(200)
    expect(r.body.currency).toBe('EUR')
    expect(r.body.rows.map((x: { exact: string }) => x.exact)).toEqual(['5.00', '0.50'])
    // A: mean 5, variance (20·100 − 40·25)/39; B: mean 0.5, variance (2·100 − 40·0.25)/39.
    const se = Math.sqrt(1000 / 39 / 40 + 190 / 39 / 40)
    const zStat = 4.5 / se
    expect(r.body.test.statistic).toBeCloseTo(zStat, 9)
    expect(r.body.test.pValue).toBeCloseTo(2 * (1 - normalCdf(zStat)), 12)
    expect(r.body.test).toMatchObject({ name: 'welch_z', significant: true, winner: 'A' })
    const bad = await s.api('GET', '/v1/campaigns/ab/compare/conversions?metric=revenue')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('query.metric')
  })

  it('the main compare endpoint takes the conversion metrics, answering as /compare/conversions', async () => {
    for (const metric of ['conversion_rate', 'clicker_conversion_rate', 'revenue_per_recipient']) {
      const main = await s.api('GET', `/v1/campaigns/ab/compare?metric=${metric}`)
      expect(main.status).toBe(200)
      expect(main.body).toEqual((await s.api('GET', `/v1/campaigns/ab/compare/conversions?by=variant&metric=${metric}`)).body)
    }
    const rate = await s.api('GET', '/v1/campaigns/ab/compare?metric=conversion_rate')
    expect(rate.body.test).toMatchObject({ name: 'two_proportion_z', significant: true, winner: 'A' })
    expect(rate.body.rows.map((x: { successes: number }) => x.successes)).toEqual([20, 2])
    // Clickers are the buyers: everyone who clicked bought.
    const clickers = await s.api('GET', '/v1/campaigns/ab/compare?metric=clicker_conversion_rate')
    expect(clickers.body.rows.map((x: { trials: number; successes: number }) => [x.trials, x.successes])).toEqual([[20, 20], [2, 2]])
    const rev = await s.api('GET', '/v1/campaigns/ab/compare?metric=revenue_per_recipient&currency=USD')
    expect(rev.body.rows.map((x: { exact: string }) => x.exact)).toEqual(['0.00', '0.00'])
    expect((await s.api('GET', '/v1/campaigns/ab/compare?metric=conversion_rate&listSize=1000')).status).toBe(400)
  })
})
