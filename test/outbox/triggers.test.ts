import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, BROWSER_UA, readerFetch, startTestServer, type TestServer } from '../support/server.js'
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

    const list = await s.api('GET', '/v1/triggers')
    expect(list.body.items.find((t: any) => t.id === id).members).toBe(3)
    expect((await s.api('DELETE', `/v1/triggers/${id}`)).status).toBe(204)
    expect((await s.api('GET', `/v1/triggers/${id}`)).status).toBe(404)
    await rx.close()
  })

  it('a cross-campaign trigger selects exactly the wake-up list of the same thresholds', async () => {
    const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString()
    // Within 60 days mpp and human get 5 sends; spread 4 (its 5th is 100 days old: the old trigger rule counted it); few 2.
    const history: Array<[number, string[]]> = [
      [-100, ['spread']],
      [-40, ['mpp', 'human', 'spread']],
      [-30, ['mpp', 'human', 'spread']],
      [-20, ['mpp', 'human', 'spread', 'few']],
      [-10, ['mpp', 'human', 'spread', 'few']],
      [-5, ['mpp', 'human']],
    ]
    const pixels: Record<string, string[]> = {}
    for (const [i, [d, ids]] of history.entries()) {
      await s.api('POST', '/v1/campaigns', { id: `wk${i}`, name: `wk${i}` })
      const r = await s.api('POST', `/v1/campaigns/wk${i}/sends`, { sentAt: day(d), recipients: ids.map((id) => ({ id })) })
      for (const x of r.body.recipients as Array<{ id: string; pixelUrl: string }>) (pixels[x.id] ??= []).push(x.pixelUrl)
    }
    const open = async (url: string, ua: string) => expect((await fetch(url, { headers: { 'user-agent': ua } })).status).toBe(200)
    // Apple Mail Privacy Protection fetches every pixel (bare user agent): machine opens, never engagement.
    for (const url of pixels.mpp!) await open(url, 'Mozilla/5.0')
    await open(pixels.human![4]!, BROWSER_UA)
    await s.flush()

    expect((await s.api('POST', '/v1/triggers', { name: 'bad', audience: { status: 'asleep', inactiveDays: 60, minSends: 5 } })).status).toBe(400)
    expect((await s.api('POST', '/v1/triggers', { name: 'bad', audience: { inactiveDays: 60, minSends: 5, activeDays: 60 } })).status).toBe(400)
    const id = (await s.api('POST', '/v1/triggers', { name: 'Wake up', audience: { inactiveDays: 60, minSends: 5 }, every: '1s' })).body.id
    await until(async () => (await s.api('GET', `/v1/triggers/${id}`)).body.lastRunAt !== null, 20_000, 'a run')
    const members = (await s.api('GET', `/v1/triggers/${id}/members`)).body.items.map((m: { recipientId: string }) => m.recipientId).sort()

    const r = await fetch(`${s.url}/v1/audience?status=inactive&inactiveDays=60&minSends=5`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(r.status).toBe(200)
    const listed = (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l).recipientId).sort()
    expect(listed).toEqual(['mpp'])
    expect(members).toEqual(listed)
  })
})
