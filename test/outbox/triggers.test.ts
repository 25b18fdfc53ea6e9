import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { startReceiver, until } from './receiver.js'

let s: TestServer

beforeAll(async () => {
  s = await startTestServer({ env: { WEBHOOK_ALLOW_PRIVATE: '1', CLASSIFY_PASS_INTERVAL_MS: '0' } })
})
afterAll(async () => {
  await s.stop()
})

describe('audience triggers', () => {
  it('emits audience.entered once per recipient, to webhooks and the stream, however often it runs', async () => {
    const rx = await startReceiver()
    await s.api('POST', '/v1/webhooks', { url: rx.url, events: ['audience.entered'] })
    await s.api('POST', '/v1/campaigns', { name: 'Trig', id: 'trig' })
    const hero = (await s.api('POST', '/v1/campaigns/trig/links', { url: 'https://shop.example/hero', label: 'hero' })).body.id
    const sends = await s.api('POST', '/v1/campaigns/trig/sends', {
      sentAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      recipients: ['ada', 'bob', 'cyd', 'dan'].map((id) => ({ id })),
    })
    const url = (i: number) => sends.body.recipients[i].links[0].url as string
    for (const i of [0, 1]) expect((await readerFetch(url(i))).status).toBe(302)
    await s.flush()

    expect((await s.api('POST', '/v1/triggers', { name: 'bad', audience: { campaignId: 'trig', filter: { clicked: 'nope' } } })).status).toBe(400)
    expect((await s.api('POST', '/v1/triggers', { name: 'bad', audience: { campaignId: 'missing' } })).status).toBe(404)
    const created = await s.api('POST', '/v1/triggers', { name: 'Clicked the hero', audience: { campaignId: 'trig', filter: { clicked: hero } }, every: '1s' })
    expect(created.status).toBe(201)
    const id = created.body.id
    // Cross-campaign: sent at least once, no human open or click for a day.
    const idle = (await s.api('POST', '/v1/triggers', { name: 'Idle', audience: { inactiveDays: 1, minSends: 1 }, every: '1s' })).body.id

    await until(async () => (await s.api('GET', `/v1/triggers/${id}`)).body.members === 2, 20_000, 'two members')
    expect((await readerFetch(url(2))).status).toBe(302)
    await s.flush()
    await until(async () => (await s.api('GET', `/v1/triggers/${id}`)).body.members === 3, 20_000, 'three members')
    // Two more runs: nobody enters twice.
    const ran = (await s.api('GET', `/v1/triggers/${id}`)).body.lastRunAt
    await until(async () => (await s.api('GET', `/v1/triggers/${id}`)).body.lastRunAt > ran, 20_000, 'another run')
    await until(() => rx.received.filter((r) => JSON.parse(r.body).data.trigger.id === id).length >= 3, 10_000, 'three deliveries')

    const entered = rx.received.map((r) => JSON.parse(r.body)).filter((e) => e.data.trigger.id === id)
    expect(entered.map((e) => e.data.recipientId).sort()).toEqual(['ada', 'bob', 'cyd'])
    expect(new Set(entered.map((e) => e.id)).size).toBe(3)
    expect(entered[0]).toMatchObject({ type: 'audience.entered', data: { trigger: { id, name: 'Clicked the hero' }, campaign: { id: 'trig' } } })
    const members = await s.api('GET', `/v1/triggers/${id}/members`)
    expect(members.body.items.map((m: { recipientId: string }) => m.recipientId).sort()).toEqual(['ada', 'bob', 'cyd'])

    const stream = await s.api('GET', '/v1/events?types=audience.entered&limit=100')
    const streamed = stream.body.events.filter((e: any) => e.data.trigger.id === id)
    expect(streamed.map((e: any) => e.id).sort()).toEqual(entered.map((e) => e.id).sort())
    // The idle audience: dan never clicked (cyd's click came after the first runs, so cyd may have entered before it).
    const idleMembers = (await s.api('GET', `/v1/triggers/${idle}/members`)).body.items.map((m: { recipientId: string }) => m.recipientId)
    expect(idleMembers).toContain('dan')
    expect(idleMembers).not.toContain('ada')
    expect(idleMembers).not.toContain('bob')

    const list = await s.api('GET', '/v1/triggers')
    expect(list.body.items.find((t: any) => t.id === id).members).toBe(3)
    expect((await s.api('DELETE', `/v1/triggers/${id}`)).status).toBe(204)
    expect((await s.api('GET', `/v1/triggers/${id}`)).status).toBe(404)
    await rx.close()
  })
})
