import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMetaStore, type MetaStore } from '../../src/store/meta.js'
import { scratchDatabase, type ScratchDatabase } from '../support/postgres.js'
import { startTestServer, type TestServer } from '../support/server.js'

/*
 * The sequences' hand-written SQL (arrays as parameters, unnest, JSON pages, the partial index) on
 * PostgreSQL through node-postgres: sequences.test.ts runs the whole story on PGlite.
 */
const PG_URL = process.env.TEST_DATABASE_URL
if (!PG_URL) console.warn('sequences on PostgreSQL SKIPPED: set TEST_DATABASE_URL=postgres://… (.ci/run does)')

const DAY = 86_400_000
const T0 = Date.parse('2026-11-02T09:00:00.000Z')
let now = T0
let scratch: ScratchDatabase
let meta: MetaStore
let s: TestServer

describe.skipIf(!PG_URL)('sequences on PostgreSQL', () => {
  beforeAll(async () => {
    scratch = await scratchDatabase(PG_URL!, 'sillage_sequences')
    meta = await createMetaStore({ url: scratch.url, path: '' })
    s = await startTestServer({ meta, clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
    for (const c of ['p1', 'p2']) await s.api('POST', '/v1/campaigns', { id: c, name: c })
  })
  afterAll(async () => {
    await s?.stop()
    await meta?.close()
    await scratch?.drop()
  })

  it('enrols, lists who is due, marks steps, exits, reschedules and erases', async () => {
    const created = await s.api('POST', '/v1/sequences', { id: 'pg', name: 'PG', steps: [{ id: 'a', campaignId: 'p1', offset: 'PT0S' }, { id: 'b', campaignId: 'p2', offset: 'P2D' }] })
    expect(created.status).toBe(201)
    await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'r3', reason: 'complaint', scope: 'p2' }] })
    const enrolled = await s.api('POST', '/v1/sequences/pg/enrollments', {
      recipients: [{ id: 'r1', segments: ['x', 'y'], attributes: { plan: 'pro' }, variant: 'B' }, { id: 'r2' }, { id: 'r3' }],
    })
    expect(enrolled.body).toMatchObject({ enrolled: 3, unchanged: [], skipped: { count: 0 } })
    const due = (until: number) => s.api('GET', `/v1/sequences/pg/due?until=${new Date(until).toISOString()}`)
    const first = (await due(T0)).body
    expect(first.due).toHaveLength(3)
    expect(first.due[0]).toEqual({ recipientId: 'r1', stepId: 'a', campaignId: 'p1', dueAt: new Date(T0).toISOString(), enteredAt: new Date(T0).toISOString(), variant: 'B', segments: ['x', 'y'], attributes: { plan: 'pro' } })
    expect((await s.api('POST', '/v1/campaigns/p1/sends', { recipients: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }], sequence: { id: 'pg', stepId: 'a' } })).body.sequence.marked).toBe(3)
    // r3's complaint is scoped to step b's campaign: they leave when b is next.
    const second = (await due(T0 + 2 * DAY)).body
    expect(second.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['r1', 'r2'])
    expect(second.skipped).toMatchObject({ suppressed: 1 })
    const patched = await s.api('PATCH', '/v1/sequences/pg', { steps: [{ id: 'a', campaignId: 'p1', offset: 'PT0S' }, { id: 'b', campaignId: 'p2', offset: 'P4D' }] })
    expect(patched.body).toMatchObject({ rescheduled: 2, completed: 0 })
    expect((await due(T0 + 4 * DAY - 1)).body.due).toEqual([])
    expect((await s.api('DELETE', '/v1/sequences/pg/enrollments/r2')).body.exit.reason).toBe('removed')
    expect((await s.api('DELETE', '/v1/recipients/r1')).status).toBe(200)
    expect((await due(T0 + 10 * DAY)).body.due).toEqual([])
    now = T0 + 10 * DAY
    expect((await s.api('POST', '/v1/sequences/pg/enrollments', { recipients: [{ id: 'r1' }, { id: 'r2' }], reenter: true })).body).toMatchObject({
      reentered: 1,
      skipped: { count: 1, recipients: [{ id: 'r1', reason: 'erased' }] },
    })
    // The re-entered r2's item, as stored with the entry by PostgreSQL (generated columns).
    const at = new Date(now).toISOString()
    expect((await due(now)).body.due).toEqual([{ recipientId: 'r2', stepId: 'a', campaignId: 'p1', dueAt: at, enteredAt: at, variant: null, segments: [], attributes: {} }])
    const f = (await s.api('GET', '/v1/sequences/pg/funnel')).body
    // r2 twice (the removed entry and the new one), r3 exited; r1's history was erased.
    expect(f).toMatchObject({ entered: 3, active: 1, exited: 2 })
    expect(f.steps[1].skipped).toEqual({ removed: 1, suppressed: 1 })
  })

  it('applies the goal: a purchase stored before a backdated entry, one after, and a change of goal', async () => {
    const steps = [{ id: 'g1', campaignId: 'p1', offset: 'PT0S' }, { id: 'g2', campaignId: 'p2', offset: 'P1D' }]
    expect((await s.api('POST', '/v1/sequences', { id: 'goal', name: 'Goal', steps, goal: { type: 'purchase', within: 'P7D' } })).status).toBe(201)
    const due = async () => (await s.api('GET', `/v1/sequences/goal/due?until=${new Date(now).toISOString()}`)).body
    expect((await s.api('POST', '/v1/conversions', { orderId: 'g-early', recipientId: 'early', amount: '1.00', currency: 'EUR', at: new Date(now - DAY).toISOString() })).status).toBe(201)
    expect((await s.api('POST', '/v1/conversions', { orderId: 'g-sign', recipientId: 'later', type: 'signup', at: new Date(now - DAY).toISOString() })).status).toBe(201)
    await s.flush()
    expect((await due()).due).toEqual([])
    const back = new Date(now - 2 * DAY).toISOString()
    await s.api('POST', '/v1/sequences/goal/enrollments', { recipients: [{ id: 'early', enteredAt: back }, { id: 'later', enteredAt: back }, { id: 'plain', enteredAt: back }] })
    expect((await s.api('POST', '/v1/conversions', { orderId: 'g-plain', recipientId: 'plain', amount: '1.00', currency: 'EUR', at: new Date(now - 3600_000).toISOString() })).status).toBe(201)
    await s.flush()
    const page = await due()
    expect(page.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['later'])
    expect(page.skipped).toMatchObject({ converted: 2 })
    expect((await s.api('PATCH', '/v1/sequences/goal', { goal: { type: 'signup', within: 'P7D' } })).status).toBe(200)
    expect(await due()).toMatchObject({ due: [], skipped: { converted: 1 } })
  })
})
