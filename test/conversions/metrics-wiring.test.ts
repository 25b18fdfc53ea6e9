import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, type TestServer } from '../support/server.js'
import { DAY, HOUR, iso, startShop } from './shop.js'

const T0 = Date.parse('2026-05-04T10:00:00Z')

let s: TestServer
let hero: string
let hero2: string
let footer: string

/*
 * shop, sent to 4: dupond (A, vip, FR), durand (B, DE), martin (A), bernard (B, vip, FR).
 * Links: hero and hero2 go to the same URL, footer to another.
 * Clicks: dupond hero (T0, click id), durand footer (T0+1h), martin hero2 (T0), bernard hero (T0);
 * bernard also clicks campaign other at T0+2h.
 * Orders: o1 0.10 EUR, o2 0.20 EUR by dupond's click id; o3 10 USD durand alone at T0+1h+2d (→ footer);
 * o4 1 EUR martin alone at T0+8d (outside 7 days: only a 9d window credits hero2); o5 4 EUR bernard naming shop
 * (→ hero); o6 7 EUR bernard alone at T0+3h (→ other, his last click).
 */
beforeAll(async () => {
  const shop = await startShop(
    T0,
    [
      { url: 'https://shop.example/a', label: 'hero' },
      { url: 'https://shop.example/b', label: 'footer' },
      { url: 'https://shop.example/a', label: 'hero again' },
    ],
    [
      { id: 'dupond', variant: 'A', segments: ['vip'], attributes: { country: 'FR' } },
      { id: 'durand', variant: 'B', attributes: { country: 'DE' } },
      { id: 'martin', variant: 'A' },
      { id: 'bernard', variant: 'B', segments: ['vip'], attributes: { country: 'FR' } },
    ],
  )
  s = shop.s
  ;[hero, footer, hero2] = shop.links as [string, string, string]
  const { rec, click } = shop
  const cid = await click(rec.dupond!.links[0]!.url, T0)
  expect(cid).toBeTruthy()
  await click(rec.durand!.links[1]!.url, T0 + HOUR)
  await click(rec.martin!.links[2]!.url, T0)
  await click(rec.bernard!.links[0]!.url, T0)
  await click(shop.otherLink, T0 + 2 * HOUR)
  shop.setNow(T0 + 10 * DAY)
  const r = await s.api('POST', '/v1/conversions', {
    conversions: [
      { clickId: cid, orderId: 'o1', amount: '0.1', currency: 'EUR', at: iso(T0 + HOUR) },
      { clickId: cid, orderId: 'o2', amount: '0.2', currency: 'EUR', at: iso(T0 + 2 * HOUR) },
      { recipientId: 'durand', orderId: 'o3', amount: '10', currency: 'USD', at: iso(T0 + HOUR + 2 * DAY) },
      { recipientId: 'martin', orderId: 'o4', amount: '1', currency: 'EUR', at: iso(T0 + 8 * DAY) },
      { recipientId: 'bernard', campaignId: 'shop', orderId: 'o5', amount: '4', currency: 'EUR', at: iso(T0 + 3 * HOUR) },
      { recipientId: 'bernard', orderId: 'o6', amount: '7', currency: 'EUR', at: iso(T0 + 3 * HOUR) },
    ],
  })
  expect(r.body.created).toBe(6)
  await s.flush()
})
afterAll(async () => {
  await s.stop()
})

describe('conversions in the metrics API', () => {
  it('stats gain a conversions block and conversion rates', async () => {
    const r = await s.api('GET', '/v1/campaigns/shop/stats')
    expect(r.status).toBe(200)
    // o1, o2, o3, o5: 3 converters of 4 sent and 4 clickers; EUR 0.1 + 0.2 + 4 = 4.3 over 3 orders.
    expect(r.body.conversions).toEqual({
      total: 4,
      converters: 3,
      rate: 0.75,
      clickers: 4,
      clickerRate: 0.75,
      revenue: { EUR: '4.30', USD: '10.00' },
      revenuePerRecipient: { EUR: '1.08', USD: '2.50' },
      averageOrderValue: { EUR: '1.43', USD: '10.00' },
    })
    expect(r.body.rates.conversion).toEqual({ value: 0.75, numerator: 3, denominator: 4, definition: 'converters / sent' })
    expect(r.body.rates.clickerConversion).toMatchObject({ numerator: 3, denominator: 4 })
    expect(r.body.opens.unique).toBe(0)
    const wide = await s.api('GET', '/v1/campaigns/shop/stats?attributionWindow=9d')
    expect(wide.body.conversions).toMatchObject({ total: 5, converters: 4, rate: 1, revenue: { EUR: '5.30', USD: '10.00' } })
    // from/to bound the conversion time: only o1 and o2 before T0+2h30.
    const early = await s.api('GET', `/v1/campaigns/shop/stats?to=${iso(T0 + 2.5 * HOUR)}`)
    expect(early.body.conversions).toMatchObject({ total: 2, converters: 1, revenue: { EUR: '0.30' } })
    expect((await s.api('GET', '/v1/campaigns/other/stats')).body.conversions).toMatchObject({ total: 1, converters: 1, revenue: { EUR: '7.00' } })
    const bad = await s.api('GET', '/v1/campaigns/shop/stats?attributionWindow=forever')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('query.attributionWindow')
  })

  it('counts the clickers denominator within from/to, as the conversions it is divided into', async () => {
    // Only durand clicked after T0 + 30 min.
    const from = encodeURIComponent(iso(T0 + HOUR / 2))
    const stats = (await s.api('GET', `/v1/campaigns/shop/stats?from=${from}`)).body
    const conv = (await s.api('GET', `/v1/campaigns/shop/conversions?from=${from}`)).body
    expect(stats.conversions.clickers).toBe(1)
    expect(conv.totals.clickers).toBe(1)
    expect(conv.byVariant.map((r: { key: string; clickers: number }) => [r.key, r.clickers])).toEqual([['A', 0], ['B', 1]])
    expect(conv.byLink.find((l: { linkId: string }) => l.linkId === footer).clickers).toBe(1)
    expect(conv.byLink.find((l: { linkId: string }) => l.linkId === hero).clickers).toBe(0)
    const cmp = (await s.api('GET', `/v1/campaigns/shop/compare/conversions?by=variant&metric=clicker_conversion_rate&from=${from}`)).body
    expect(cmp.rows.map((r: { key: string; trials: number }) => [r.key, r.trials])).toEqual([['A', 0], ['B', 1]])
  })

  it('links/stats gain conversions per link and per URL (converters distinct across a URL\'s links)', async () => {
    const r = await s.api('GET', '/v1/campaigns/shop/links/stats')
    expect(r.status).toBe(200)
    const links = Object.fromEntries(r.body.links.map((l: { linkId: string }) => [l.linkId, l]))
    expect(links[hero].conversions).toEqual({
      total: 3,
      converters: 2,
      rate: 0.5,
      clickers: 2,
      clickerRate: 1,
      revenue: { EUR: '4.30' },
      revenuePerRecipient: { EUR: '1.08' },
      averageOrderValue: { EUR: '1.43' },
    })
    expect(links[hero2].conversions).toMatchObject({ total: 0, converters: 0, clickers: 1, clickerRate: 0, revenue: {} })
    expect(links[footer].conversions).toMatchObject({ total: 1, converters: 1, clickers: 1, revenue: { USD: '10.00' }, averageOrderValue: { USD: '10.00' } })
    const wide = await s.api('GET', '/v1/campaigns/shop/links/stats?attributionWindow=9d')
    const urls = Object.fromEntries(wide.body.byUrl.map((u: { url: string }) => [u.url, u]))
    // o4 now credits martin's hero2 click: the URL has 3 converters of its 3 clickers.
    expect(urls['https://shop.example/a'].conversions).toMatchObject({ total: 4, converters: 3, clickers: 3, clickerRate: 1, revenue: { EUR: '5.30' } })
    expect(urls['https://shop.example/b'].conversions).toMatchObject({ total: 1, converters: 1, revenue: { USD: '10.00' } })
  })

  it('segments rows gain conversions by segment, variant and attribute', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const key = (rows: Array<{ key: string }>): Record<string, any> => Object.fromEntries(rows.map((x) => [x.key, x]))
    const seg = key((await s.api('GET', '/v1/campaigns/shop/segments?by=segment')).body.rows)
    expect(Object.keys(seg)).toEqual(['vip'])
    expect(seg.vip.conversions).toMatchObject({ total: 3, converters: 2, rate: 1, clickers: 2, revenue: { EUR: '4.30' } })
    expect(seg.vip.conversionRate.value).toBe(1)
    const variant = key((await s.api('GET', '/v1/campaigns/shop/segments?by=variant')).body.rows)
    expect(variant.A.conversions).toMatchObject({ total: 2, converters: 1, rate: 0.5, revenue: { EUR: '0.30' }, averageOrderValue: { EUR: '0.15' } })
    expect(variant.B.conversions).toMatchObject({ total: 2, converters: 2, rate: 1, revenue: { EUR: '4.00', USD: '10.00' }, revenuePerRecipient: { EUR: '2.00', USD: '5.00' } })
    expect(variant.A.conversionRate).toMatchObject({ value: 0.5 })
    expect(variant.A.conversionRate.low).toBeLessThan(0.5)
    const country = key((await s.api('GET', '/v1/campaigns/shop/segments?by=attribute:country')).body.rows)
    expect(country.FR.conversions).toMatchObject({ total: 3, converters: 2, revenue: { EUR: '4.30' } })
    expect(country.DE.conversions).toMatchObject({ total: 1, converters: 1, revenue: { USD: '10.00' } })
    expect(country[''].conversions).toMatchObject({ total: 0, converters: 0 })
    // Narrowed to the footer link: only o3 counts.
    const footerOnly = key((await s.api('GET', `/v1/campaigns/shop/segments?by=variant&linkId=${footer}`)).body.rows)
    expect(footerOnly.A.conversions.total).toBe(0)
    expect(footerOnly.B.conversions).toMatchObject({ total: 1, converters: 1, clickers: 1, revenue: { USD: '10.00' } })
  })

  it('/v1/compare compares campaigns on conversion rate and revenue per recipient', async () => {
    const r = await s.api('GET', '/v1/compare?campaigns=shop,other&metric=conversion_rate')
    expect(r.status).toBe(200)
    expect(r.body.rows.map((x: { key: string; trials: number; successes: number }) => [x.key, x.successes, x.trials])).toEqual([
      ['shop', 3, 4],
      ['other', 1, 1],
    ])
    expect(r.body).toMatchObject({ metric: 'conversion_rate', definition: 'converters / sent', test: { significant: false, winner: null, reason: 'not_enough_data' } })
    const rev = await s.api('GET', '/v1/compare?campaigns=shop,other&metric=revenue_per_recipient')
    expect(rev.status).toBe(200)
    expect(rev.body.currency).toBe('EUR')
    expect(rev.body.rows.map((x: { exact: string }) => x.exact)).toEqual(['1.08', '7.00'])
    expect(rev.body.rows[1].rate.value).toBe(7)
    expect(rev.body.test).toMatchObject({ name: 'welch_z', reason: 'not_enough_data', winner: null })
    const usd = await s.api('GET', '/v1/compare?campaigns=shop,other&metric=revenue_per_recipient&currency=USD')
    expect(usd.body.rows.map((x: { exact: string }) => x.exact)).toEqual(['2.50', '0.00'])
    expect((await s.api('GET', '/v1/compare?campaigns=shop,other&metric=revenue')).status).toBe(400)
  })

  it('the recipient timeline shows each conversion with the click that led to it', async () => {
    const durand = await s.api('GET', '/v1/recipients/durand/timeline')
    expect(durand.status).toBe(200)
    expect(durand.body.events.map((e: { type: string }) => e.type)).toEqual(['conversion', 'click'])
    expect(durand.body.events[0]).toMatchObject({
      at: iso(T0 + HOUR + 2 * DAY),
      currency: 'USD',
      conversion: {
        orderId: 'o3',
        type: 'purchase',
        attribution: 'recipient',
        touch: { type: 'click', campaignId: 'shop', linkId: footer, at: iso(T0 + HOUR), link: { id: footer, url: 'https://shop.example/b', label: 'footer' } },
      },
    })
    expect(durand.body.events[1].conversion).toBeNull()
    const dupond = await s.api('GET', '/v1/recipients/dupond/timeline')
    const orders = dupond.body.events.filter((e: { type: string }) => e.type === 'conversion')
    expect(orders.map((e: { conversion: { orderId: string } }) => e.conversion.orderId)).toEqual(['o2', 'o1'])
    expect(orders[1].conversion).toMatchObject({ attribution: 'click', touch: { type: 'click', campaignId: 'shop', linkId: hero, at: iso(T0), link: { label: 'hero' } } })
    // martin's order came 8 days after his click: unattributed by default, credited to hero2 with a 9-day window.
    const martin = await s.api('GET', '/v1/recipients/martin/timeline')
    expect(martin.body.events[0].conversion).toEqual({ orderId: 'o4', type: 'purchase', attribution: 'unattributed', touch: null })
    const wide = await s.api('GET', '/v1/recipients/martin/timeline?attributionWindow=9d')
    expect(wide.body.events[0].conversion).toMatchObject({ attribution: 'recipient', touch: { linkId: hero2, link: { label: 'hero again' } } })
    // bernard's o6 went to his last click, in campaign other; o5 named shop.
    const bernard = await s.api('GET', '/v1/recipients/bernard/timeline')
    const byOrder = Object.fromEntries(
      bernard.body.events.filter((e: { type: string }) => e.type === 'conversion').map((e: { conversion: { orderId: string; touch: { campaignId: string } } }) => [e.conversion.orderId, e.conversion.touch.campaignId]),
    )
    expect(byOrder).toEqual({ o5: 'shop', o6: 'other' })
  })

  it('audience: "clicked link 2 but did not buy within a week" in one request', async () => {
    const ids = async (q: string, accept = 'application/x-ndjson') => {
      const res = await fetch(`${s.url}/v1/campaigns/shop/audience?${q}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept } })
      expect(res.status, await res.clone().text()).toBe(200)
      return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l).recipientId)
    }
    expect(await ids('converted=true')).toEqual(['bernard', 'dupond', 'durand'])
    expect(await ids('converted=false')).toEqual(['martin'])
    // durand clicked the footer (link 2) and bought 2 days 1 hour after the send: he bought within a week, not within a day.
    expect(await ids(`clicked=${footer}&converted=false&convertedWithin=7d`)).toEqual([])
    expect(await ids(`clicked=${footer}&converted=false&convertedWithin=1d`)).toEqual(['durand'])
    expect(await ids(`clicked=${footer}&convertedWithin=7d`)).toEqual(['durand'])
    // martin clicked hero2 and bought 8 days after the send (credited only with a 9-day attribution window).
    expect(await ids(`clicked=${hero2}&converted=false&convertedWithin=7d`)).toEqual(['martin'])
    expect(await ids(`clicked=${hero2}&converted=false&convertedWithin=9d&attributionWindow=9d`)).toEqual([])
    expect(await ids(`clicked=${hero2}&converted=true&attributionWindow=9d`)).toEqual(['martin'])
    // The same filter in CSV.
    const csv = await fetch(`${s.url}/v1/campaigns/shop/audience?clicked=${footer}&converted=false&convertedWithin=1d`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/csv' } })
    expect((await csv.text()).split('\r\n')[1]).toMatch(/^durand,B,,/)
    for (const [q, name] of [['convertedWithin=soon', 'query.convertedWithin'], ['converted=maybe', 'query.converted']]) {
      const bad = await s.api('GET', `/v1/campaigns/shop/audience?${q}`)
      expect(bad.status).toBe(400)
      expect(bad.body.error.message).toContain(name)
    }
  })
})
