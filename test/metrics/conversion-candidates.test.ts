import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conversionCandidates, conversionSummary } from '../../src/metrics/conversion-summary.js'
import { readerClick, readerFetch, startTestServer, type TestServer } from '../support/server.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.parse('2026-05-04T10:00:00Z')

let s: TestServer
let now = T0
const iso = (ms: number) => new Date(ms).toISOString()

async function click(url: string, at: number): Promise<string | null> {
  now = at
  return readerClick(url)
}

/*
 * Five campaigns sent to ann and bob. ann clicks direct (T0), shadowed (T0+1h), touched (T0+2h)
 * and opens opened (T0+3h). Orders: o1 by direct's click id; o2 ann alone at T0+5h (last click:
 * touched; last touch: opened); o3 ann alone at T0+4h, then again by shadowed's click id.
 */
beforeAll(async () => {
  s = await startTestServer({ clock: () => now })
  const ids = ['direct', 'touched', 'opened', 'shadowed', 'none']
  const urls: Record<string, { link: string; pixel: string }> = {}
  for (const id of ids) {
    await s.api('POST', '/v1/campaigns', { id, name: id, tracking: { clickIdParam: 'sl_cid', utm: false } })
    await s.api('POST', `/v1/campaigns/${id}/links`, { url: `https://shop.example/${id}` })
    const sent = await s.api('POST', `/v1/campaigns/${id}/sends`, { recipients: [{ id: 'ann' }, { id: 'bob' }] })
    const ann = sent.body.recipients.find((r: { id: string }) => r.id === 'ann')
    urls[id] = { link: ann.links[0].url, pixel: ann.pixelUrl }
  }
  const cid = await click(urls.direct!.link, T0)
  const shadowCid = await click(urls.shadowed!.link, T0 + HOUR)
  await click(urls.touched!.link, T0 + 2 * HOUR)
  now = T0 + 3 * HOUR
  expect((await readerFetch(urls.opened!.pixel)).status).toBe(200)
  now = T0 + DAY
  const r = await s.api('POST', '/v1/conversions', {
    conversions: [
      { clickId: cid, orderId: 'o1', amount: '2', currency: 'EUR', at: iso(T0 + HOUR) },
      { recipientId: 'ann', orderId: 'o2', amount: '3', currency: 'EUR', at: iso(T0 + 5 * HOUR) },
      { recipientId: 'ann', orderId: 'o3', amount: '5', currency: 'USD', at: iso(T0 + 4 * HOUR) },
      { clickId: shadowCid, orderId: 'o3', amount: '5', currency: 'USD', at: iso(T0 + 6 * HOUR) },
    ],
  })
  expect(r.status).toBeLessThan(300)
  await s.flush()
})
afterAll(async () => {
  await s?.stop()
})

describe('conversionCandidates', () => {
  it('names every campaign with attributed conversions, and conversionSummary with them equals it without', async () => {
    const ids = ['direct', 'touched', 'opened', 'shadowed', 'none']
    for (const model of ['click', 'open'] as const) {
      for (const traffic of ['human', 'all'] as const) {
        const opts = { traffic, model }
        const candidates = await conversionCandidates(s.deps.events, ids, opts)
        expect(candidates.has('direct')).toBe(true)
        expect(candidates.has(model === 'click' ? 'touched' : 'opened')).toBe(true)
        expect(candidates.has('none')).toBe(false)
        for (const id of ids) {
          const alone = await conversionSummary(s.deps.events, id, 2, opts)
          expect(await conversionSummary(s.deps.events, id, 2, { ...opts, candidates }), `${id} ${model} ${traffic}`).toEqual(alone)
          if (alone.total > 0) expect(candidates.has(id), id).toBe(true)
        }
      }
    }
    // o2 and o3 go to touched (ingest keeps an order's first post: o3 by shadowed's click id is dropped).
    expect((await conversionSummary(s.deps.events, 'direct', 2)).total).toBe(1)
    expect((await conversionSummary(s.deps.events, 'touched', 2)).total).toBe(2)
    expect((await conversionSummary(s.deps.events, 'shadowed', 2)).total).toBe(0)
    // Under the open model, ann's open of "opened" (T0+3h) is her last touch for o2 and o3.
    expect((await conversionSummary(s.deps.events, 'opened', 2, { model: 'open' })).total).toBe(2)
  })
})
