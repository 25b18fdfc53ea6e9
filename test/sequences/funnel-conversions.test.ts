import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryRows } from '../../src/store/clickhouse.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { funnelDaysMargin } from '../../src/store/sequence-funnel-days.js'

// The funnel's conversions kept per entry (migration 3800) kept right: a conversion stored before a
// backdated entry, one stored after the funnel was read, a change of goal and back, an erasure.
const HOUR = 3600_000
const DAY = 24 * HOUR
const T0 = Date.parse('2026-11-02T09:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()
let now = T0
let s: TestServer

const funnel = async () => {
  const r = await s.api('GET', '/v1/sequences/conv/funnel?cohort=day')
  expect(r.status).toBe(200)
  const [s1, s2] = r.body.steps
  return { converted: r.body.converted, median: r.body.medianEntryToConversionMs, s1: [s1.sent, s1.converted, s1.medianEntryToConversionMs], s2: [s2.sent, s2.converted] }
}
const buy = async (order: string, recipientId: string, at: number, type?: string) => {
  const body = type ? { orderId: order, recipientId, type, at: iso(at) } : { orderId: order, recipientId, amount: '5.00', currency: 'EUR', at: iso(at) }
  expect((await s.api('POST', '/v1/conversions', body)).status).toBe(201)
  await s.flush()
}

beforeAll(async () => {
  // Reads right after writes: the funnel's days show them only through their marks (no margin to hide a missing one).
  funnelDaysMargin.seconds = 0
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  for (const c of ['k1', 'k2']) expect((await s.api('POST', '/v1/campaigns', { id: c, name: c })).status).toBe(201)
  const steps = [{ id: 's1', campaignId: 'k1', offset: 'P0D' }, { id: 's2', campaignId: 'k2', offset: 'PT1H' }]
  expect((await s.api('POST', '/v1/sequences', { id: 'conv', name: 'Conv', steps, exitOn: ['unsubscribed'], goal: { type: 'purchase', within: 'P7D' } })).status).toBe(201)
})
afterAll(async () => {
  await s.stop()
})

describe('funnel conversions kept per entry', () => {
  it('counts a purchase stored before a backdated entry, and one stored after the funnel was read', async () => {
    // early bought a day after an entry dated two days back, before being enrolled.
    await buy('o-early', 'early', T0 - DAY)
    const enrolled = await s.api('POST', '/v1/sequences/conv/enrollments', { recipients: [{ id: 'a' }, { id: 'b' }, { id: 'early', enteredAt: iso(T0 - 2 * DAY) }] })
    expect(enrolled.body.enrolled).toBe(3)
    expect((await s.api('POST', '/v1/campaigns/k1/sends', { recipients: [{ id: 'a' }, { id: 'b' }], sequence: { id: 'conv', stepId: 's1' } })).status).toBe(201)
    expect(await funnel()).toEqual({ converted: 1, median: DAY, s1: [2, 0, null], s2: [0, 0] })
    // After the read (its cursor moved): a buys two hours after the first step was sent; b signs up (not the goal).
    now = T0 + 3 * HOUR
    await buy('o-a', 'a', T0 + 2 * HOUR)
    await buy('s-b', 'b', T0 + HOUR, 'signup')
    expect((await s.api('POST', '/v1/campaigns/k2/sends', { recipients: [{ id: 'a' }, { id: 'b' }], sequence: { id: 'conv', stepId: 's2' } })).status).toBe(201)
    // (quantileExact's median of an even count is the upper one, as before.)
    expect(await funnel()).toEqual({ converted: 2, median: DAY, s1: [2, 1, 2 * HOUR], s2: [2, 0] })
    // A purchase before the entry, stored late, does not count; read again with nothing new: the same.
    await buy('o-before', 'b', T0 - HOUR)
    expect(await funnel()).toEqual({ converted: 2, median: DAY, s1: [2, 1, 2 * HOUR], s2: [2, 0] })
  })

  it('a change of goal counts the conversions of the new goal, and back', async () => {
    expect((await s.api('PATCH', '/v1/sequences/conv', { goal: { type: 'signup', within: 'P7D' } })).status).toBe(200)
    expect(await funnel()).toEqual({ converted: 1, median: HOUR, s1: [2, 1, HOUR], s2: [2, 0] })
    // While the goal is a signup, a purchase by b: counted once the goal is a purchase again.
    await buy('o-b', 'b', T0 + 4 * HOUR)
    expect(await funnel()).toEqual({ converted: 1, median: HOUR, s1: [2, 1, HOUR], s2: [2, 0] })
    expect((await s.api('PATCH', '/v1/sequences/conv', { goal: { type: 'purchase', within: 'P7D' } })).status).toBe(200)
    // b's purchase follows both of b's sends: each step counts it.
    expect(await funnel()).toEqual({ converted: 3, median: 4 * HOUR, s1: [2, 2, 4 * HOUR], s2: [2, 1] })
  })

  it('an erased recipient leaves the conversions', async () => {
    expect((await s.api('DELETE', '/v1/recipients/a')).status).toBe(200)
    expect(await funnel()).toEqual({ converted: 2, median: DAY, s1: [1, 1, 4 * HOUR], s2: [1, 1] })
    const rows = await queryRows<{ n: number }>(s.deps.events, `SELECT count() AS n FROM ${s.deps.events.db}.sequence_conversions WHERE recipient_id = 'a'`)
    expect(Number(rows[0]!.n)).toBe(0)
  })

  it('a converted entry sent a step later, dated before its conversion, counts it at that step', async () => {
    // early (converted, its row computed) is sent step 2, recorded now but dated between entry and purchase.
    const sent = await s.api('POST', '/v1/campaigns/k2/sends', { recipients: [{ id: 'early' }], sentAt: iso(T0 - 1.5 * DAY), sequence: { id: 'conv', stepId: 's2' } })
    expect(sent.status).toBe(201)
    expect(sent.body.sequence.marked).toBe(1)
    expect(await funnel()).toEqual({ converted: 2, median: DAY, s1: [1, 1, 4 * HOUR], s2: [2, 2] })
  })
})
