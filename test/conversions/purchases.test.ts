import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wilson } from '../../src/metrics/statistics.js'
import { ADMIN_KEY, readerClick, startTestServer, type TestServer } from '../support/server.js'
import { signIn } from '../dashboard/seed.js'
import { DAY } from './shop.js'

const NOW = Date.parse('2026-06-01T00:00:00Z')
let s: TestServer

const COFFEE = { sku: 'SKU-COF', name: 'Coffee 1 kg', category: 'drinks', price: '12.50' }
const MUG = { sku: 'SKU-MUG', name: 'Mug', category: 'kitchen', price: 8 }
const FILTER = { sku: 'SKU-FIL', name: 'Filters', category: 'kitchen', price: '3.335' }
const TEA = { name: 'Green tea', category: 'drinks', price: '5' }
const XSS = '<img src=x onerror=alert(1)>'

/*
 * Customer → orders as [days before NOW, currency, items]. Coffee is always bought before filters
 * (P1, P2, P3: the next order after the coffee holds filters, 40, 10 and 30 days later); P4 bought coffee
 * and nothing since. P3 pays in USD (coffee 14, filters 3.5).
 */
const ORDERS: Record<string, Array<[number, string, Array<Record<string, unknown>>]>> = {
  P1: [[100, 'EUR', [COFFEE]], [60, 'EUR', [{ ...FILTER, quantity: 2 }]], [10, 'EUR', [{ ...COFFEE, quantity: 2 }, MUG]]],
  P2: [[90, 'EUR', [COFFEE, TEA]], [80, 'EUR', [FILTER]]],
  P3: [[50, 'USD', [{ ...COFFEE, price: 14 }]], [20, 'USD', [{ ...FILTER, price: '3.5', quantity: 3 }]]],
  P4: [[30, 'EUR', [MUG]], [25, 'EUR', [COFFEE]]],
  P5: [[5, 'EUR', [{ ...TEA, quantity: 2 }]]],
  // A product name that is markup: escaped on the dashboard. No category.
  P6: [[200, 'EUR', [{ name: XSS, price: '1' }]]],
}

beforeAll(async () => {
  s = await startTestServer({ clock: () => NOW })
  const conversions = Object.entries(ORDERS).flatMap(([who, orders]) =>
    orders.map(([d, currency, items], i) => ({ recipientId: who, orderId: `${who}-${i}`, amount: '10', currency, items, at: new Date(NOW - d * DAY).toISOString() })),
  )
  const r = await s.api('POST', '/v1/conversions', { conversions })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  await s.flush()
})
afterAll(async () => {
  await s.stop()
})

describe('GET /v1/purchases/top', () => {
  it('products by orders, buyers, quantity and exact revenue per currency, with the stage before each order', async () => {
    const r = await s.api('GET', '/v1/purchases/top?by=product')
    expect(r.status).toBe(200)
    expect(r.body.orders).toBe(11)
    expect(r.body.rows.map((x: { key: string }) => x.key)).toEqual(['SKU-COF', 'SKU-FIL', 'Green tea', 'SKU-MUG', XSS])
    const [coffee, filter, tea, mug] = r.body.rows
    // Coffee: P1 twice, P2, P3, P4; 6 units; 5 × 12.50 EUR and 14 USD. Stage before: first (P1, P2, P3), active (P1's third), new (P4).
    expect(coffee).toEqual({
      key: 'SKU-COF', name: 'Coffee 1 kg', orders: 5, buyers: 4, quantity: 6, revenue: { EUR: '62.50', USD: '14.00' },
      ordersByStage: { first: 3, new: 1, active: 1, lapsing: 0, lapsed: 0 },
    })
    // Filters: 3 × 3.335 EUR = 10.005 exactly, half up to 10.01 (through floats 10.004999… would show 10.00) and 3 × 3.5 USD. P1 active, P2 new (10 days after its first), P3 active (30 days).
    expect(filter).toMatchObject({ orders: 3, buyers: 3, quantity: 6, revenue: { EUR: '10.01', USD: '10.50' }, ordersByStage: { active: 2, new: 1 } })
    expect(tea).toMatchObject({ name: 'Green tea', orders: 2, quantity: 3, revenue: { EUR: '15.00' } })
    expect(mug).toMatchObject({ orders: 2, revenue: { EUR: '16.00' } })
  })

  it('by category, per stage, within dates', async () => {
    const cat = (await s.api('GET', '/v1/purchases/top?by=category')).body.rows
    expect(cat.map((x: { key: string; orders: number; name: null }) => [x.key, x.orders, x.name])).toEqual([['drinks', 6, null], ['kitchen', 5, null]])
    const first = (await s.api('GET', '/v1/purchases/top?stage=first')).body.rows
    expect(first.map((x: { key: string; orders: number }) => [x.key, x.orders])).toEqual([['SKU-COF', 3], ['Green tea', 2], [XSS, 1], ['SKU-MUG', 1]])
    const recent = (await s.api('GET', `/v1/purchases/top?from=${new Date(NOW - 26 * DAY).toISOString()}`)).body
    expect(recent.rows.map((x: { key: string; orders: number }) => [x.key, x.orders])).toEqual([['SKU-COF', 2], ['Green tea', 1], ['SKU-FIL', 1], ['SKU-MUG', 1]])
    expect((await s.api('GET', '/v1/purchases/top?campaignId=none')).body).toMatchObject({ orders: 0, rows: [] })
    expect((await s.api('GET', '/v1/purchases/top?by=brand')).status).toBe(400)
  })
})

describe('GET /v1/purchases/top, an order recorded twice and an erased buyer', () => {
  it('counts the API row of an order the pixel also recorded, once, and forgets an erased buyer', async () => {
    // Kind gift, apart from the orders above. K's order K-1: the API's row 40 days ago with its items; the public
    // pixel recorded the same order id now, without items. G: another gift order.
    expect((await s.api('POST', '/v1/campaigns', { name: 'Pixel', id: 'pix', tracking: { clickIdParam: 'sl_cid', utm: false } })).status).toBe(201)
    expect((await s.api('POST', '/v1/campaigns/pix/links', { url: 'https://shop.example/' })).status).toBe(201)
    const sent = await s.api('POST', '/v1/campaigns/pix/sends', { recipients: [{ id: 'K' }] })
    const cid = await readerClick(sent.body.recipients[0].links[0].url)
    expect(cid).toBeTruthy()
    expect((await fetch(`${s.url}/t/conversion.gif?cid=${encodeURIComponent(cid!)}&order=K-1&amount=999&currency=EUR&type=gift`)).status).toBe(200)
    await s.flush()
    const gift = (who: string, id: string, sku: string, d: number) => ({ recipientId: who, orderId: id, amount: '70', currency: 'EUR', type: 'gift', items: [{ sku, price: '70' }], at: new Date(NOW - d * DAY).toISOString() })
    expect((await s.api('POST', '/v1/conversions', { conversions: [gift('K', 'K-1', 'SKU-BOX', 40), gift('G', 'G-1', 'SKU-CARD', 20)] })).status).toBe(201)
    await s.flush()
    const top = async () => (await s.api('GET', '/v1/purchases/top?type=gift')).body
    const before = await top()
    expect(before.orders).toBe(2)
    // Once, with the API's items and time (first order 40 days ago); the pixel's row (no items, now) would drop it from the list.
    expect(before.rows.find((r: { key: string }) => r.key === 'SKU-BOX')).toMatchObject({ orders: 1, buyers: 1, revenue: { EUR: '70.00' }, ordersByStage: { first: 1 } })

    expect((await s.api('DELETE', '/v1/recipients/K')).status).toBe(200)
    const after = await top()
    expect(after.orders).toBe(1)
    expect(after.rows.map((r: { key: string }) => r.key)).toEqual(['SKU-CARD'])
  })
})

describe('GET /v1/purchases/next', () => {
  it('a product always bought before another shows in next, with the median delay', async () => {
    const r = await s.api('GET', '/v1/purchases/next?after=SKU-COF')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ after: 'SKU-COF', by: 'product', buyers: 4, returned: 3 })
    const w = wilson(3, 4)
    // Delays 40, 10, 30 days: median 30, quartiles 20 and 35.
    expect(r.body.next).toEqual([{ key: 'SKU-FIL', name: 'Filters', buyers: 3, share: 0.75, low: w.low, high: w.high, days: { median: 30, p25: 20, p75: 35 } }])
    // Not the other way round: after filters, only P1 came back (coffee and a mug, 50 days later).
    const back = (await s.api('GET', '/v1/purchases/next?after=SKU-FIL')).body
    expect(back).toMatchObject({ buyers: 3, returned: 1 })
    expect(back.next.map((x: { key: string; buyers: number; days: { median: number } }) => [x.key, x.buyers, x.days.median])).toEqual([['SKU-COF', 1, 50], ['SKU-MUG', 1, 50]])
  })

  it('by category', async () => {
    const b = (await s.api('GET', '/v1/purchases/next?after=drinks&by=category')).body
    expect(b).toMatchObject({ buyers: 5, returned: 3 })
    expect(b.next.map((x: { key: string; buyers: number }) => [x.key, x.buyers])).toEqual([['kitchen', 3]])
    expect((await s.api('GET', '/v1/purchases/next?after=nothing')).body).toMatchObject({ buyers: 0, returned: 0, next: [] })
    expect((await s.api('GET', '/v1/purchases/next')).status).toBe(400)
  })
})

describe('items', () => {
  it('are validated field by field, the price kept exact', async () => {
    const post = (items: unknown) => s.api('POST', '/v1/conversions', { orderId: `v-${Math.random()}`, recipientId: 'V', amount: '1', currency: 'EUR', items })
    for (const [items, field] of [
      [[{ sku: 'A', price: -1 }], 'body.items.0.price'],
      [[{ sku: 'A', price: '1.23456' }], 'body.items.0.price'],
      [[{ sku: 'A', quantity: 0 }], 'body.items.0.quantity'],
      [[{ sku: 'A', quantity: 1.5 }], 'body.items.0.quantity'],
      [[{ sku: 'x'.repeat(101) }], 'body.items.0.sku'],
      [[{ sku: 'A', nested: { deep: true } }], 'body.items.0'],
      [[{ sku: { toString: 'A' } }], 'body.items.0.sku'],
    ] as const) {
      const r = await post(items)
      expect(r.status, JSON.stringify(items)).toBe(400)
      expect(r.body.error.message).toContain(field)
    }
    const ok = await post([{ sku: 'A', price: 2.5, quantity: 2 }])
    expect(ok.status).toBe(201)
    await s.flush()
    const rows = await s.deps.events.client.query({ query: `SELECT items FROM ${s.deps.events.db}.purchases WHERE recipient_id = 'V'`, format: 'JSONEachRow' })
    expect(await rows.json()).toEqual([{ items: '[{"sku":"A","quantity":2,"price":"2.5000"}]' }])
  })
})

describe('dashboard lifecycle page', () => {
  it('shows stage values, the transition heat map and the product table, escaped', async () => {
    const { cookie } = await signIn(s, ADMIN_KEY)
    const res = await fetch(`${s.url}/dashboard/lifecycle?horizon=30`, { headers: { cookie } })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('<option value="30" selected="">30 days</option>')
    for (const stage of ['new', 'active', 'lapsing', 'lapsed']) expect(html).toContain(`<tr data-stage="${stage}">`)
    // 16 cells of the heat map, each coloured by its share.
    expect(html.match(/<td class="num" style="background: hsl\(212, 70%, \d+%\)/g)?.length).toBe(16)
    // A long product list scrolls inside its box, not the page.
    expect(html).toContain('<div class="scroll"><table id="products-table">')
    const coffee = /<tr data-key="SKU-COF">(.*?)<\/tr>/s.exec(html)![1]!
    expect(coffee).toContain('Coffee 1 kg')
    expect([...coffee.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((m) => m[1])).toEqual(['5', '4', '6', '62.50 EUR + 14.00 USD', '3'])
    expect(html).not.toContain(XSS)
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
  })
})
