import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyStoredUpdates } from '../../src/classification/apply.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { funnelDaysMargin } from '../../src/store/sequence-funnel-days.js'

// The funnel's per-send facts (migration 3300) kept right: events stored after the send and before
// it, a reclassified click, an erased recipient, a step whose campaign comes back.
const T0 = Date.parse('2026-11-02T09:00:00.000Z')
let now = T0
let s: TestServer
let link = ''

const token = (r: string) => s.deps.tokens.sign('f1', r)
const step1 = async (traffic: string) => {
  const r = await s.api('GET', `/v1/sequences/facts/funnel?traffic=${traffic}`)
  expect(r.status).toBe(200)
  const { sent, opened, clicked, unsubscribed } = r.body.steps[0]
  return { sent, opened, clicked, unsubscribed }
}
const clickOf = async (recipient: string) => {
  const [row] = await queryRows<{ event_id: string; class: string }>(
    s.deps.events,
    `SELECT event_id, toString(class) AS class FROM ${s.deps.events.db}.events WHERE campaign_id = 'f1' AND recipient_id = {r:String} AND type = 'click'`,
    { r: recipient },
  )
  return row!
}

beforeAll(async () => {
  // Reads right after writes: the funnel's days show them only through their marks (no margin to hide a missing one).
  funnelDaysMargin.seconds = 0
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  for (const c of ['f1', 'f2']) expect((await s.api('POST', '/v1/campaigns', { id: c, name: c })).status).toBe(201)
  link = (await s.api('POST', '/v1/campaigns/f1/links', { url: 'https://shop.example/f1' })).body.id
  const steps = [{ id: 's1', campaignId: 'f1', offset: 'P0D' }]
  expect((await s.api('POST', '/v1/sequences', { id: 'facts', name: 'Facts', steps })).status).toBe(201)
  expect((await s.api('POST', '/v1/sequences/facts/enrollments', { recipients: ['a', 'b', 'c', 'd'].map((id) => ({ id })) })).status).toBe(200)
})
afterAll(async () => {
  await s.stop()
})

describe('funnel facts', () => {
  it('counts opens, clicks and unsubscribes stored after the send and before it, by traffic', async () => {
    // d clicks before its send is recorded (a sender that records late): the send's row reads it.
    now = T0 + 1_000
    expect((await readerFetch(`${s.url}/c/${link}/${token('d')}`)).status).toBe(302)
    await s.flush()
    expect((await s.api('POST', '/v1/campaigns/f1/sends', { recipients: ['a', 'b', 'c', 'd'].map((id) => ({ id })), sequence: { id: 'facts', stepId: 's1' } })).status).toBe(201)
    expect(await step1('human')).toEqual({ sent: 4, opened: 0, clicked: 1, unsubscribed: 0 })
    // After the funnel was read (its cursor moved): a human open and click of a, a scanner's click of b, c leaves.
    now = T0 + 60_000
    expect((await readerFetch(`${s.url}/o/f1/${token('a')}.gif`)).status).toBe(200)
    expect((await readerFetch(`${s.url}/c/${link}/${token('a')}`)).status).toBe(302)
    expect((await readerFetch(`${s.url}/c/${link}/${token('b')}`, { headers: { 'user-agent': 'Barracuda Sentinel (EE)' } })).status).toBe(302)
    const un = await fetch(`${s.url}/u/f1/${token('c')}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })
    expect(un.status).toBe(200)
    await s.flush()
    expect(await step1('human')).toEqual({ sent: 4, opened: 1, clicked: 2, unsubscribed: 1 })
    expect(await step1('machine')).toEqual({ sent: 4, opened: 0, clicked: 1, unsubscribed: 0 })
    expect(await step1('all')).toEqual({ sent: 4, opened: 1, clicked: 3, unsubscribed: 1 })
    // Read again with nothing new: the same.
    expect(await step1('human')).toEqual({ sent: 4, opened: 1, clicked: 2, unsubscribed: 1 })
  })

  it('a reclassified click leaves the human clicks and joins the machine ones, and back', async () => {
    const click = await clickOf('a')
    expect(click.class).toBe('human')
    const range = { from: T0, to: T0 + 120_000 }
    await applyStoredUpdates(s.deps.events, [{ eventId: click.event_id, was: { class: 'human', reasons: [] }, class: 'scanner_click', reasons: ['too_soon_after_send'] }], range)
    expect(await step1('human')).toEqual({ sent: 4, opened: 1, clicked: 1, unsubscribed: 1 })
    expect(await step1('machine')).toEqual({ sent: 4, opened: 0, clicked: 2, unsubscribed: 0 })
    expect(await step1('all')).toEqual({ sent: 4, opened: 1, clicked: 3, unsubscribed: 1 })
    await applyStoredUpdates(s.deps.events, [{ eventId: click.event_id, was: { class: 'scanner_click', reasons: ['too_soon_after_send'] }, class: 'human', reasons: [] }], range, 'reclassify')
    expect(await step1('human')).toEqual({ sent: 4, opened: 1, clicked: 2, unsubscribed: 1 })
    expect(await step1('machine')).toEqual({ sent: 4, opened: 0, clicked: 1, unsubscribed: 0 })
  })

  it('an erased recipient leaves the funnel: the send and its open and click', async () => {
    expect((await s.api('DELETE', '/v1/recipients/a')).status).toBe(200)
    expect(await step1('human')).toEqual({ sent: 3, opened: 0, clicked: 1, unsubscribed: 1 })
    const rows = await queryRows<{ n: number }>(s.deps.events, `SELECT count() AS n FROM ${s.deps.events.db}.sequence_send_facts WHERE recipient_id = 'a'`)
    expect(Number(rows[0]!.n)).toBe(0)
  })

  it('a step whose campaign comes back counts the events stored while it was no step', async () => {
    const f2 = [{ id: 's1', campaignId: 'f2', offset: 'P0D' }]
    expect((await s.api('PATCH', '/v1/sequences/facts', { steps: f2 })).status).toBe(200)
    // The old sends are f1's: no engagement counts for them while the step is f2.
    expect(await step1('human')).toEqual({ sent: 3, opened: 0, clicked: 0, unsubscribed: 0 })
    now = T0 + 120_000
    expect((await readerFetch(`${s.url}/o/f1/${token('b')}.gif`)).status).toBe(200)
    await s.flush()
    expect(await step1('human')).toEqual({ sent: 3, opened: 0, clicked: 0, unsubscribed: 0 })
    expect((await s.api('PATCH', '/v1/sequences/facts', { steps: [{ id: 's1', campaignId: 'f1', offset: 'P0D' }] })).status).toBe(200)
    expect(await step1('human')).toEqual({ sent: 3, opened: 1, clicked: 1, unsubscribed: 1 })
  })
})
