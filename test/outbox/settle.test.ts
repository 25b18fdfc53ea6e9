import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { startReceiver, until } from './receiver.js'

let s: TestServer

beforeAll(async () => {
  // A fast second pass: it judges events older than 400 ms, every 150 ms.
  s = await startTestServer({ env: { WEBHOOK_ALLOW_PRIVATE: '1', CLASSIFY_PASS_INTERVAL_MS: '150', CLASSIFY_PASS_DELAY_MS: '400' } })
})
afterAll(async () => {
  await s.stop()
})

describe('settle: verdict and settle: edge', () => {
  it("a scanner's burst never reaches a verdict endpoint as clicks; an edge endpoint gets them, then email.reclassified", async () => {
    const verdictRx = await startReceiver()
    const edgeRx = await startReceiver()
    const verdict = await s.api('POST', '/v1/webhooks', { url: verdictRx.url, events: ['email.clicked', 'email.reclassified'] })
    // traffic all: on a loaded machine the pass may judge a click before this endpoint reads it; it then goes out labelled.
    const edge = await s.api('POST', '/v1/webhooks', { url: edgeRx.url, events: ['email.clicked', 'email.reclassified'], settle: 'edge', traffic: 'all' })
    expect(verdict.body.settle).toBe('verdict')
    expect(edge.body.settle).toBe('edge')

    await s.api('POST', '/v1/campaigns', { name: 'Gateway', id: 'gw' })
    for (const l of ['a', 'b', 'c']) await s.api('POST', '/v1/campaigns/gw/links', { url: `https://shop.example/${l}`, label: l })
    const sends = await s.api('POST', '/v1/campaigns/gw/sends', { sentAt: new Date(Date.now() - 3_600_000).toISOString(), recipients: [{ id: 'scanned' }, { id: 'person' }] })
    const [scanned, person] = sends.body.recipients
    // A security gateway follows every link of the message within a second, with a browser's user agent.
    const t0 = Date.now()
    for (const l of scanned.links) expect((await readerFetch(l.url)).status).toBe(302)
    expect((await readerFetch(person.links[1].url)).status).toBe(302)
    await s.flush()

    const types = (rx: { received: Array<{ body: string }> }) => rx.received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, any> })
    await until(() => types(edgeRx).filter((e) => e.type === 'email.reclassified').length === 3, 15_000, 'three email.reclassified')
    await until(() => types(verdictRx).length >= 1, 15_000, 'the human click')
    const tVerdict = verdictRx.received[0]!.at - t0
    const tEdge = edgeRx.received[0]!.at - t0

    const edgeEvents = types(edgeRx)
    expect(edgeEvents.filter((e) => e.type === 'email.clicked').map((e) => e.data.recipientId).sort()).toEqual(['person', 'scanned', 'scanned', 'scanned'])
    const rcl = edgeEvents.filter((e) => e.type === 'email.reclassified')
    const clickIds = new Set(edgeEvents.filter((e) => e.type === 'email.clicked' && e.data.recipientId === 'scanned').map((e) => (e as any).id))
    for (const r of rcl) {
      expect(clickIds.has(r.data.eventId)).toBe(true)
      expect(r.data).toMatchObject({ eventType: 'email.clicked', previous: { class: 'human' }, class: 'scanner_click', by: 'second_pass' })
      expect(r.data.reasons).toContain('burst')
    }
    // The verdict endpoint: the person's click, no scanner click and no reclassification (it never saw them as human).
    await new Promise((r) => setTimeout(r, 800))
    const verdictEvents = types(verdictRx)
    expect(verdictEvents.map((e) => [e.type, e.data.recipientId])).toEqual([['email.clicked', 'person']])
    // The stream with settle=verdict agrees; with settle=edge and traffic=all it has all four clicks, now labelled.
    const vs = await s.api('GET', '/v1/events?types=email.clicked&campaignId=gw')
    expect(vs.body.events.map((e: any) => e.data.recipientId)).toEqual(['person'])
    const all = await s.api('GET', '/v1/events?types=email.clicked&campaignId=gw&traffic=all&settle=edge')
    expect(all.body.events.filter((e: any) => e.data.class === 'scanner_click')).toHaveLength(3)
    // What settle: verdict costs: the pass's delay and interval (400 ms + up to 150 ms here).
    expect(tVerdict).toBeGreaterThan(tEdge)
    expect(tVerdict).toBeGreaterThanOrEqual(400)
    await verdictRx.close()
    await edgeRx.close()
  })
})
