import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { convertedFilterSql } from '../../src/metrics/converted-filter.js'
import { readerFetch, type TestServer } from '../support/server.js'
import { DAY, HOUR, iso, startShop, type Shop } from './shop.js'

const T0 = Date.parse('2026-03-02T10:00:00Z')

let shop: Shop
let s: TestServer
let hero: string
let footer: string
let cid: string

beforeAll(async () => {
  shop = await startShop(
    T0,
    [
      { url: 'https://shop.example/hero', label: 'hero' },
      { url: 'https://shop.example/footer', label: 'footer' },
    ],
    [
      { id: 'dupond', variant: 'A', segments: ['vip'] },
      { id: 'durand', variant: 'B' },
      { id: 'martin', variant: 'A' },
      { id: 'bernard', variant: 'B', segments: ['vip'] },
    ],
  )
  s = shop.s
  ;[hero, footer] = shop.links as [string, string]
  const { rec, click } = shop
  cid = (await click(rec.dupond!.links[0]!.url, T0))!
  await click(rec.durand!.links[1]!.url, T0 + HOUR)
  await click(rec.martin!.links[0]!.url, T0)
  await click(rec.bernard!.links[0]!.url, T0)
  // bernard's last click is in another campaign: last-click attribution gives that one the credit.
  await click(shop.otherLink, T0 + 2 * HOUR)
  // martin opens a week later: only the open model credits his late order to it.
  shop.setNow(T0 + 7 * DAY)
  expect((await readerFetch(rec.martin!.pixelUrl, { headers: { accept: 'image/*' } })).status).toBe(200)
  shop.setNow(T0 + 10 * DAY)
})
afterAll(async () => {
  await s.stop()
})

describe('POST /v1/conversions', () => {
  it('attributes by click id (read from a real redirect), idempotent per order id, amounts exact', async () => {
    expect(cid).toBeTruthy()
    const first = await s.api('POST', '/v1/conversions', { clickId: cid, orderId: 'o1', amount: '0.1', currency: 'EUR', at: iso(T0 + HOUR) })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ orderId: 'o1', duplicate: false, attribution: { status: 'click', campaignId: 'shop', linkId: hero, recipientId: 'dupond' } })
    const again = await s.api('POST', '/v1/conversions', { clickId: cid, orderId: 'o1', amount: '0.1', currency: 'EUR' })
    expect(again.status).toBe(200)
    expect(again.body.duplicate).toBe(true)
    expect((await s.api('POST', '/v1/conversions', { clickId: cid, orderId: 'o2', amount: 0.2, currency: 'EUR', at: iso(T0 + 2 * HOUR) })).status).toBe(201)
    await s.flush()
    // Still a duplicate once the first is in ClickHouse (not only in this process's memory).
    expect((await s.api('POST', '/v1/conversions', { clickId: cid, orderId: 'o2', amount: '0.2', currency: 'EUR' })).body.duplicate).toBe(true)
  })

  it('attributes a recipient-only conversion at query time to the last click within the window', async () => {
    // durand clicked footer at T0+1h: 1 minute inside 7 days.
    const r = await s.api('POST', '/v1/conversions', { recipientId: 'durand', orderId: 'o3', amount: '10', currency: 'USD', at: iso(T0 + HOUR + 7 * DAY - 60_000) })
    expect(r.status).toBe(201)
    expect(r.body.attribution).toEqual({ status: 'recipient', recipientId: 'durand' })
    // martin clicked at T0: 7 days and 1 hour before, outside the default window.
    await s.api('POST', '/v1/conversions', { recipientId: 'martin', orderId: 'o4', amount: '1', currency: 'EUR', at: iso(T0 + 7 * DAY + HOUR) })
    // bernard: last click overall is campaign other; o6 goes there, o7 names shop and goes to shop.
    await s.api('POST', '/v1/conversions', { recipientId: 'bernard', orderId: 'o6', amount: '4', currency: 'EUR', at: iso(T0 + 3 * HOUR) })
    await s.api('POST', '/v1/conversions', { recipientId: 'bernard', campaignId: 'shop', orderId: 'o7', amount: '2', currency: 'EUR', at: iso(T0 + 3 * HOUR) })
    const un = await s.api('POST', '/v1/conversions', { orderId: 'o5', amount: '7', currency: 'EUR' })
    expect(un.body.attribution).toEqual({ status: 'unattributed', reason: 'no_identity' })
    await s.flush()

    const m = await s.api('GET', '/v1/campaigns/shop/conversions')
    expect(m.status).toBe(200)
    // shop: o1, o2 (dupond, hero, click id), o3 (durand, footer), o7 (bernard, hero); 3 converters of 4 sent and 4 clickers.
    expect(m.body.totals).toMatchObject({
      sent: 4,
      clickers: 4,
      conversions: 4,
      converters: 3,
      revenue: { EUR: '2.30', USD: '10.00' },
      revenuePerRecipient: { EUR: '0.58', USD: '2.50' },
      averageOrderValue: { EUR: '0.77', USD: '10.00' },
    })
    expect(m.body.totals.conversionRate).toMatchObject({ value: 0.75, numerator: 'converters', denominator: 'sent' })
    expect(m.body.totals.clickerConversionRate.value).toBe(0.75)
    const links = Object.fromEntries(m.body.byLink.map((l: { linkId: string }) => [l.linkId, l]))
    expect(links[hero]).toMatchObject({ conversions: 3, converters: 2, revenue: { EUR: '2.30' }, clickers: 3 })
    expect(links[footer]).toMatchObject({ conversions: 1, converters: 1, revenue: { USD: '10.00' }, clickers: 1 })
    const variants = Object.fromEntries(m.body.byVariant.map((v: { key: string }) => [v.key, v]))
    expect(variants.A).toMatchObject({ sent: 2, conversions: 2, converters: 1, revenue: { EUR: '0.30' } })
    expect(variants.B).toMatchObject({ sent: 2, conversions: 2, converters: 2, revenue: { EUR: '2.00', USD: '10.00' } })
    const segments = Object.fromEntries(m.body.bySegment.map((v: { key: string }) => [v.key, v]))
    expect(segments.vip).toMatchObject({ sent: 2, converters: 2, revenue: { EUR: '2.30' } })

    const wide = await s.api('GET', '/v1/campaigns/shop/conversions?attributionWindow=8d')
    expect(wide.body.totals).toMatchObject({ conversions: 5, converters: 4, revenue: { EUR: '3.30', USD: '10.00' } })
    expect(wide.body.attribution).toMatchObject({ model: 'click', windowDays: 8 })
    const open = await s.api('GET', '/v1/campaigns/shop/conversions?attribution=open')
    expect(open.body.totals).toMatchObject({ conversions: 5, converters: 4, revenue: { EUR: '3.30', USD: '10.00' } })
    expect(open.body.attribution.model).toBe('open')
    const other = await s.api('GET', '/v1/campaigns/other/conversions')
    expect(other.body.totals).toMatchObject({ conversions: 1, converters: 1, revenue: { EUR: '4.00' } })
    const bad = await s.api('GET', '/v1/campaigns/shop/conversions?attributionWindow=soon')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('query.attributionWindow')
    expect((await s.api('GET', '/v1/campaigns/nope/conversions')).status).toBe(404)
  })

  it('accepts a batch, counting a repeated order once', async () => {
    const r = await s.api('POST', '/v1/conversions', {
      conversions: [
        { recipientId: 'x', orderId: 'b1', amount: '1.25', currency: 'EUR' },
        { recipientId: 'x', orderId: 'b1', amount: '1.25', currency: 'EUR' },
        { recipientId: 'x', orderId: 'o1', amount: '1', currency: 'EUR' },
      ],
    })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ created: 1, duplicates: 2 })
    expect(r.body.results.map((x: { duplicate: boolean }) => x.duplicate)).toEqual([false, true, true])
  })

  it('refuses bad input with a 400 naming the field, writing nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ orderId: 'e1', amount: '-1', currency: 'EUR' }, 'body.amount'],
      [{ orderId: 'e1', amount: 'abc', currency: 'EUR' }, 'body.amount'],
      [{ orderId: 'e1', amount: '1.00001', currency: 'EUR' }, 'body.amount'],
      [{ orderId: 'e1', amount: -3, currency: 'EUR' }, 'body.amount'],
      [{ orderId: 'e1', amount: '1', currency: 'XYZ' }, 'body.currency'],
      [{ orderId: 'e1', amount: '1' }, 'body.currency'],
      [{ amount: '1', currency: 'EUR' }, 'body.orderId'],
      [{ orderId: 'e1', clickId: cid.slice(0, -2) + (cid.endsWith('AA') ? 'BB' : 'AA') }, 'body.clickId'],
      [{ conversions: [{ orderId: 'e1', amount: '1', currency: 'EUR' }, { orderId: 'e2', amount: 'x', currency: 'EUR' }] }, 'body.conversions.1.amount'],
      [{ conversions: [{ orderId: 'e1', clickId: 'forged.AAAAAAAAAAAAAAAA' }] }, 'body.conversions.0.clickId'],
    ]
    for (const [body, field] of cases) {
      const r = await s.api('POST', '/v1/conversions', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.code).toBe('validation_failed')
      expect(r.body.error.message).toContain(field)
    }
    // e1 was in two refused requests: never written.
    expect((await s.api('POST', '/v1/conversions', { orderId: 'e1' })).status).toBe(201)
  })
})

describe('the timeline and audiences', () => {
  it("lists a recipient's conversions on the timeline with the touch that led to each", async () => {
    type Event = { type: string; at: string; amount: string | null; currency: string | null; conversion: { orderId: string; attribution: string; touch: { linkId: string } | null } | null }
    const conversions = async (recipient: string, query = '') =>
      ((await s.api('GET', `/v1/recipients/${recipient}/timeline?${query}`)).body.events as Event[]).filter((e) => e.type === 'conversion')
    const durand = await conversions('durand')
    expect(durand).toHaveLength(1)
    expect(durand[0]).toMatchObject({ at: iso(T0 + HOUR + 7 * DAY - 60_000), amount: '10.00', currency: 'USD' })
    expect(durand[0]!.conversion).toEqual({
      orderId: 'o3',
      type: 'purchase',
      attribution: 'recipient',
      touch: { type: 'click', campaignId: 'shop', linkId: footer, at: iso(T0 + HOUR), link: { id: footer, url: 'https://shop.example/footer', label: 'footer', position: expect.anything() } },
    })
    const dupond = await conversions('dupond')
    expect(dupond.map((e) => e.conversion!.orderId)).toEqual(['o2', 'o1'])
    expect(dupond[0]).toMatchObject({ amount: '0.20', conversion: { attribution: 'click', touch: { type: 'click', campaignId: 'shop', linkId: hero, at: iso(T0) } } })
    expect(await conversions('martin')).toMatchObject([{ conversion: { orderId: 'o4', attribution: 'unattributed', touch: null } }])
    expect((await conversions('martin', 'attributionWindow=8d'))[0]!.conversion!.attribution).toBe('recipient')
    expect(await conversions('dupond', `to=${encodeURIComponent(iso(T0 + 2 * HOUR))}`)).toMatchObject([{ conversion: { orderId: 'o1' } }])
  })

  it('filters an audience on converted and convertedWithin', async () => {
    const audience = async (f: ReturnType<typeof convertedFilterSql>) => {
      const rs = await s.deps.events.client.query({
        query: `SELECT recipient_id FROM ${s.deps.events.db}.sends FINAL WHERE campaign_id = {campaign:String} AND ${f.sql} ORDER BY recipient_id`,
        query_params: { campaign: 'shop', ...f.params },
        format: 'JSONEachRow',
      })
      return (await rs.json<{ recipient_id: string }>()).map((r) => r.recipient_id)
    }
    const db = s.deps.events.db
    expect(await audience(convertedFilterSql(db, { converted: true }))).toEqual(['bernard', 'dupond', 'durand'])
    expect(await audience(convertedFilterSql(db, { converted: false }))).toEqual(['martin'])
    // Sent at T0: durand bought 7 days 59 minutes later.
    expect(await audience(convertedFilterSql(db, { converted: true, withinMs: 7 * DAY }))).toEqual(['bernard', 'dupond'])
    expect(await audience(convertedFilterSql(db, { converted: false, withinMs: 7 * DAY }))).toEqual(['durand', 'martin'])
  })
})

describe('the conversion pixel and the landing script', () => {
  it('always answers the GIF and records the conversion with the click id', async () => {
    const r = await fetch(`${s.url}/t/conversion.gif?cid=${encodeURIComponent(cid)}&order=p1&amount=3.5&currency=EUR`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('image/gif')
    expect((await r.arrayBuffer()).byteLength).toBe(43)
    const forged = await fetch(`${s.url}/t/conversion.gif?cid=forged.AAAAAAAAAAAAAAAA&order=p2&amount=1&currency=EUR`)
    expect((await forged.arrayBuffer()).byteLength).toBe(43)
    const invalid = await fetch(`${s.url}/t/conversion.gif?cid=${encodeURIComponent(cid)}&order=p3&amount=-1&currency=EUR`)
    expect(invalid.status).toBe(200)
    expect((await fetch(`${s.url}/t/conversion.gif`)).status).toBe(200)
    await s.flush()
    const rs = await s.deps.events.client.query({
      query: `SELECT order_id, campaign_id, link_id, recipient_id, toString(amount) AS amount, JSONExtractBool(extra, 'invalidClickId') AS invalid
              FROM ${s.deps.events.db}.events WHERE type = 'conversion' AND startsWith(order_id, 'p') ORDER BY order_id`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([
      { order_id: 'p1', campaign_id: 'shop', link_id: hero, recipient_id: 'dupond', amount: '3.5', invalid: 0 },
      { order_id: 'p2', campaign_id: '', link_id: '', recipient_id: '', amount: '1', invalid: 1 },
    ])
  })

  it('serves the landing script', async () => {
    const r = await fetch(`${s.url}/t/sillage.js?param=ref`)
    expect(r.headers.get('content-type')).toContain('javascript')
    const js = await r.text()
    expect(js).toContain(`P = "ref"`)
    expect(js).toContain(`${s.url}`)
    expect(js).toContain('/t/conversion.gif?')
    expect(() => new Function(js)).not.toThrow()
  })
})

describe("amounts in the currency's own decimals", () => {
  it('answers 60.00 for EUR and 1000 for JPY, on the campaign figures, the timeline and the event stream', async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Yen', id: 'yen', tracking: { clickIdParam: 'sl_cid', utm: false } })
    await s.api('POST', '/v1/campaigns/yen/links', { url: 'https://shop.example/jp' })
    const sent = await s.api('POST', '/v1/campaigns/yen/sends', { recipients: [{ id: 'sato' }] })
    const yenCid = (await shop.click(sent.body.recipients[0].links[0].url, T0 + 20 * DAY))!
    expect(yenCid).toBeTruthy()
    for (const [orderId, amount, currency] of [['y1', '60', 'EUR'], ['y2', 1000, 'JPY']] as const)
      expect((await s.api('POST', '/v1/conversions', { clickId: yenCid, orderId, amount, currency, at: iso(T0 + 20 * DAY + HOUR) })).status).toBe(201)
    await s.flush()
    const m = await s.api('GET', '/v1/campaigns/yen/conversions')
    expect(m.body.totals).toMatchObject({
      revenue: { EUR: '60.00', JPY: '1000' },
      revenuePerRecipient: { EUR: '60.00', JPY: '1000' },
      averageOrderValue: { EUR: '60.00', JPY: '1000' },
    })
    expect((await s.api('GET', '/v1/campaigns/yen/stats')).body.conversions.revenue).toEqual({ EUR: '60.00', JPY: '1000' })
    const events = (await s.api('GET', '/v1/recipients/sato/timeline')).body.events as Array<{ type: string; amount: string | null; currency: string | null }>
    expect(events.filter((e) => e.type === 'conversion').map((e) => [e.amount, e.currency]).sort()).toEqual([['1000', 'JPY'], ['60.00', 'EUR']])
    // The event stream (the webhook envelopes) says it the same way.
    // settle=edge: what is committed, without waiting for the second classification pass (the default waits).
    const stream = (await s.api('GET', '/v1/events?types=conversion.created&settle=edge&limit=5000')).body.events as Array<{ data: { orderId: string; amount: string; currency: string } }>
    expect(stream.filter((e) => e.data.orderId.startsWith('y')).map((e) => [e.data.orderId, e.data.amount, e.data.currency])).toEqual([['y1', '60.00', 'EUR'], ['y2', '1000', 'JPY']])
  })
})
