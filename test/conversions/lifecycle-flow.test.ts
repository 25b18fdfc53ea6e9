import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { differenceInterval, wilson } from '../../src/metrics/statistics.js'
import { readerClick, startTestServer, type TestServer } from '../support/server.js'
import { DAY } from './shop.js'

const NOW = Date.parse('2026-06-01T00:00:00Z')
let s: TestServer

/*
 * Customer → purchases as [days before NOW, amount, currency]. Default thresholds (new < 30 days since the
 * first purchase, active < 90 since the last, lapsing < 180, else lapsed); horizon 30 days, so the
 * instants are s0 = NOW-60, s1 = NOW-30, s2 = NOW. Stage at s0 / s1 / s2 and revenue in (s0, s1] / (s1, s2]:
 */
const HISTORY: Record<string, Array<[number, string, string]>> = {
  A: [[200, '100', 'EUR'], [45, '20', 'EUR']], // lapsing (140) / active (15) / active (45); 20 EUR | 0
  B: [[100, '50', 'EUR']], // active (40) / active (70) / lapsing (100); 0 | 0
  C: [[70, '30', 'EUR'], [10, '40', 'EUR']], // new (first 10) / active (40) / active (10); 0 | 40 EUR
  D: [[250, '80', 'EUR']], // lapsed / lapsed / lapsed
  E: [[20, '60', 'EUR']], // - / - / new: acquired in the second window
  F: [[75, '10', 'USD'], [50, '15', 'USD'], [5, '25', 'USD']], // new (15) / active (20) / active (5); 15 USD | 25 USD
  G: [[170, '40', 'EUR'], [35, '30', 'EUR']], // lapsing (110) / active (5) / active (35); 30 EUR | 0
  H: [[150, '20', 'EUR']], // lapsing (90) / lapsing (120) / lapsing (150)
  I: [[80, '100', 'EUR'], [25, '50', 'USD']], // new (20) / active (50) / active (25); 0 | 50 USD
  J: [[160, '10', 'EUR']], // lapsing (100) / lapsing (130) / lapsing (160)
}

beforeAll(async () => {
  s = await startTestServer({ clock: () => NOW })
  const conversions = Object.entries(HISTORY).flatMap(([who, orders]) =>
    orders.map(([d, amount, currency], i) => ({ recipientId: who, orderId: `${who}-${i}`, amount, currency, at: new Date(NOW - d * DAY).toISOString() })),
  )
  expect((await s.api('POST', '/v1/conversions', { conversions })).status).toBe(201)
  // A win-back sent 60 days ago to two lapsing customers, two others held out; another campaign without holdout.
  const sentAt = new Date(NOW - 60 * DAY).toISOString()
  expect((await s.api('POST', '/v1/campaigns', { name: 'Win back', id: 'winback' })).status).toBe(201)
  const sends = await s.api('POST', '/v1/campaigns/winback/sends', { sentAt, recipients: [{ id: 'A' }, { id: 'G' }, { id: 'H', holdout: true }, { id: 'J', holdout: true }] })
  expect(sends.status).toBe(201)
  expect(sends.body.holdouts).toBe(2)
  expect(sends.body.recipients.map((r: { id: string }) => r.id)).toEqual(['A', 'G'])
  expect((await s.api('POST', '/v1/campaigns', { name: 'News', id: 'news' })).status).toBe(201)
  expect((await s.api('POST', '/v1/campaigns/news/sends', { sentAt, recipients: [{ id: 'A', segments: ['vip'] }, { id: 'B', segments: ['vip'] }] })).status).toBe(201)
  await s.flush()
})
afterAll(async () => {
  await s.stop()
})

type Row = { stage: string; customers: number; to: Array<{ stage: string; count: number; share: number; low: number; high: number }> }
const counts = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.stage, Object.fromEntries(r.to.filter((c) => c.count > 0).map((c) => [c.stage, c.count]))]))

describe('GET /v1/lifecycle/transitions', () => {
  it('matches the hand-computed matrices, with Wilson intervals', async () => {
    const r = await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&windows=2')
    expect(r.status).toBe(200)
    const [w1, w2] = r.body.windows
    expect(w1).toMatchObject({ from: '2026-04-02T00:00:00.000Z', to: '2026-05-02T00:00:00.000Z', customers: 9, acquired: 0 })
    expect(counts(w1.rows)).toEqual({ new: { active: 3 }, active: { active: 1 }, lapsing: { active: 2, lapsing: 2 }, lapsed: { lapsed: 1 } })
    expect(w2).toMatchObject({ customers: 9, acquired: 1 })
    expect(counts(w2.rows)).toEqual({ new: {}, active: { active: 5, lapsing: 1 }, lapsing: { lapsing: 2 }, lapsed: { lapsed: 1 } })
    const lapsing = w1.rows.find((x: Row) => x.stage === 'lapsing')
    const toActive = lapsing.to.find((c: { stage: string }) => c.stage === 'active')
    expect(lapsing.customers).toBe(4)
    expect(toActive).toEqual({ stage: 'active', count: 2, share: 0.5, low: wilson(2, 4).low, high: wilson(2, 4).high })
    expect(r.body.thresholds).toEqual({ newDays: 30, activeDays: 90, lapsedDays: 180 })
    expect(r.body.campaign).toBeUndefined()
  })

  it('same stages as /v1/lifecycle at each instant', async () => {
    const w = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&windows=1&activeDays=60&lapsedDays=120')).body.windows[0]
    for (const at of [w.from, w.to]) {
      const stages = (await s.api('GET', `/v1/lifecycle?at=${at}&activeDays=60&lapsedDays=120`)).body.stages
      const fromMatrix = at === w.from ? w.rows.map((x: Row) => x.customers) : ['new', 'active', 'lapsing', 'lapsed'].map((st) => w.rows.reduce((a: number, x: Row) => a + x.to.find((c) => c.stage === st)!.count, 0))
      const expected = stages.map((x: { customers: number }) => x.customers)
      // At the end, the acquired customers (no stage at the start) are in /v1/lifecycle but not in the matrix.
      if (at === w.to) expected[0] -= w.acquired
      expect(fromMatrix).toEqual(expected)
    }
  })

  it('a campaign with a holdout: the measured lift', async () => {
    const b = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&campaignId=winback')).body.campaign
    expect(b).toMatchObject({ campaignId: 'winback', start: '2026-04-02T00:00:00.000Z', end: '2026-05-02T00:00:00.000Z', complete: true, measuredLift: true })
    expect(b.sent.customers).toBe(2)
    expect(counts(b.sent.rows).lapsing).toEqual({ active: 2 })
    expect(b.comparison).toMatchObject({ group: 'holdout', customers: 2 })
    expect(counts(b.comparison.rows).lapsing).toEqual({ lapsing: 2 })
    const cell = b.lift.find((l: { from: string; to: string }) => l.from === 'lapsing' && l.to === 'active')
    const d = differenceInterval(2, 2, 0, 2)
    expect(cell).toEqual({ from: 'lapsing', to: 'active', sent: 1, comparison: 0, difference: 1, low: d.low, high: d.high })
    expect(b.note).toContain('measured effect')
    // Holdouts were not mailed: the campaign's sent count does not include them.
    expect((await s.api('GET', '/v1/campaigns/winback/stats')).body.sent).toBe(2)
  })

  it('a campaign without a holdout says so and compares with the customers not sent it', async () => {
    const res = await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&campaignId=news')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const b = res.body.campaign
    expect(b).toMatchObject({ measuredLift: false, comparison: { group: 'not_sent', customers: 7 } })
    expect(b.note).toContain('No holdout')
    expect(counts(b.sent.rows)).toEqual({ new: {}, active: { active: 1 }, lapsing: { active: 1 }, lapsed: {} })
    // Per segment: vip is A and B.
    const seg = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&windows=1&segment=vip')).body.windows[0]
    expect(seg.customers).toBe(2)
    expect((await s.api('GET', '/v1/lifecycle/transitions?campaignId=nothing')).status).toBe(404)
  })

  it('a campaign with a holdout counts only its recipients: one both sent and held out is sent, a segment keeps its members', async () => {
    const sentAt = new Date(NOW - 60 * DAY).toISOString()
    expect((await s.api('POST', '/v1/campaigns', { name: 'Mixed', id: 'mixed' })).status).toBe(201)
    const sends = [
      [{ id: 'A', segments: ['vip'] }, { id: 'C' }, { id: 'B', segments: ['vip'], holdout: true }, { id: 'D', holdout: true }],
      [{ id: 'A', segments: ['vip'], holdout: true }],
    ]
    for (const recipients of sends) expect((await s.api('POST', '/v1/campaigns/mixed/sends', { sentAt, recipients })).status).toBe(201)
    await s.flush()
    const all = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&campaignId=mixed')).body.campaign
    expect(all).toMatchObject({ measuredLift: true, sent: { customers: 2 }, comparison: { group: 'holdout', customers: 2 } })
    const vip = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&campaignId=mixed&segment=vip')).body.campaign
    expect(vip).toMatchObject({ sent: { customers: 1 }, comparison: { group: 'holdout', customers: 1 } })
  })

  it('a long trend (stages of more than 17 instants, counted by two packed keys) places customers as a short one does', async () => {
    const long = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&windows=20')).body.windows
    const short = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&windows=2')).body.windows
    expect(long).toHaveLength(20)
    expect(long.slice(18)).toEqual(short)
    expect(short[1].customers).toBeGreaterThan(0)
  })

  it('refuses a bad horizon or thresholds', async () => {
    const bad = await s.api('GET', '/v1/lifecycle/transitions?horizon=90d')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('query.horizon')
    expect((await s.api('GET', '/v1/lifecycle/transitions?activeDays=300')).body.error.message).toContain('query.activeDays')
    expect((await s.api('GET', '/v1/lifecycle/value?horizon=P1000D')).status).toBe(400)
  })
})

describe('GET /v1/lifecycle/value', () => {
  it('per stage and currency, exact, with interval, n and the back-test', async () => {
    const r = await s.api('GET', '/v1/lifecycle/value?horizon=P30D')
    expect(r.status).toBe(200)
    const b = r.body
    expect(b.window).toEqual({ from: '2026-05-02T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' })
    expect(b.backtestWindow).toEqual({ from: '2026-04-02T00:00:00.000Z', to: '2026-05-02T00:00:00.000Z' })
    const st = Object.fromEntries(b.stages.map((x: { stage: string }) => [x.stage, x]))
    // Active at s1: A B C F G I; since then C 40 EUR, F 25 USD, I 50 USD.
    expect(st.active.customers).toBe(6)
    const eur = st.active.value.find((v: { currency: string }) => v.currency === 'EUR')
    expect(eur).toMatchObject({ revenue: '40.00', mean: '6.67', low: '0.00' })
    // sd of (40, 0, 0, 0, 0, 0) = √(266.67); high = 6.667 + 1.96 sd / √6.
    const sd = Math.sqrt((1600 - 6 * (40 / 6) ** 2) / 5)
    expect(eur.high).toBe((40 / 6 + 1.959964 * sd / Math.sqrt(6)).toFixed(2))
    expect(st.active.value.find((v: { currency: string }) => v.currency === 'USD')).toMatchObject({ revenue: '75.00', mean: '12.50' })
    expect(st.lapsing).toMatchObject({ customers: 2, value: [{ currency: 'EUR', mean: '0.00' }, { currency: 'USD', mean: '0.00' }] })
    expect(st.new).toMatchObject({ customers: 0, value: [] })
    // Back-test: one horizon earlier, lapsing at s0 (A G H J) then bought 20 + 30 EUR: 12.5 predicted, 0 observed since.
    expect(st.lapsing.backtest).toEqual([
      { currency: 'EUR', predicted: '12.50', actual: '0.00', error: '12.50', relativeError: null, withinInterval: true, customers: 4 },
      { currency: 'USD', predicted: '0.00', actual: '0.00', error: '0.00', relativeError: null, withinInterval: true, customers: 4 },
    ])
    // Active at s0: B alone, who bought nothing: predicted 0 against 6.6667 EUR and 12.5 USD observed.
    expect(st.active.backtest).toEqual([
      { currency: 'EUR', predicted: '0.00', actual: '6.67', error: '-6.67', relativeError: -1, withinInterval: false, customers: 1 },
      { currency: 'USD', predicted: '0.00', actual: '12.50', error: '-12.50', relativeError: -1, withinInterval: false, customers: 1 },
    ])
    // New at s0: C F I (15 USD from F); nobody is new at s1, so nothing to check it against.
    expect(st.new.backtest).toEqual([
      { currency: 'EUR', predicted: '0.00', actual: null, error: null, relativeError: null, withinInterval: null, customers: 3 },
      { currency: 'USD', predicted: '5.00', actual: null, error: null, relativeError: null, withinInterval: null, customers: 3 },
    ])
  })
})

describe('erasure', () => {
  it('removes the recipient from purchases and holdouts', async () => {
    expect((await s.api('GET', '/v1/lifecycle')).body.customers).toBe(10)
    expect((await s.api('DELETE', '/v1/recipients/J')).status).toBe(200)
    expect((await s.api('GET', '/v1/lifecycle')).body.customers).toBe(9)
    const b = (await s.api('GET', '/v1/lifecycle/transitions?horizon=P30D&campaignId=winback')).body.campaign
    expect(b.comparison).toMatchObject({ group: 'holdout', customers: 1 })
    const held = await s.deps.events.client.query({ query: `SELECT count() AS n FROM ${s.deps.events.db}.holdouts WHERE recipient_id = 'J'`, format: 'JSONEachRow' })
    expect(await held.json()).toEqual([{ n: 0 }])
  })
})

describe('the per-customer summary (customer_orders)', () => {
  it('a customer buying in two currencies in one window counts in both, with its own sum per currency', async () => {
    // M: 100 days ago, then 10 EUR (50), 20 USD (40), 30 USD (20), 5 EUR (10); N: 100 days ago, then 30 EUR (15). Both active at s0 and s1.
    const at = (d: number) => new Date(NOW - d * DAY).toISOString()
    const orders: Array<[string, number, string, string]> = [['M', 100, '1', 'EUR'], ['M', 50, '10', 'EUR'], ['M', 40, '20', 'USD'], ['M', 20, '30', 'USD'], ['M', 10, '5', 'EUR'], ['N', 100, '1', 'EUR'], ['N', 15, '30', 'EUR']]
    const conversions = orders.map(([who, d, amount, currency], i) => ({ recipientId: who, orderId: `bundle-${i}`, amount, currency, type: 'bundle', at: at(d) }))
    expect((await s.api('POST', '/v1/conversions', { conversions })).status).toBe(201)
    await s.flush()
    const active = (await s.api('GET', '/v1/lifecycle/value?type=bundle&horizon=P30D')).body.stages.find((x: { stage: string }) => x.stage === 'active')
    // Since s1: EUR 5 (M) and 30 (N); USD 30 (M) and 0 (N). Intervals from the per-customer sums (not per order).
    const high = (a: number, b: number) => ((a + b) / 2 + (1.959964 * Math.sqrt(a * a + b * b - 2 * ((a + b) / 2) ** 2)) / Math.sqrt(2)).toFixed(2)
    expect(active).toMatchObject({ customers: 2, value: [
      { currency: 'EUR', revenue: '35.00', mean: '17.50', low: '0.00', high: high(5, 30) },
      { currency: 'USD', revenue: '30.00', mean: '15.00', low: '0.00', high: high(30, 0) },
    ] })
    // One horizon earlier: M 10 EUR and 20 USD, N nothing.
    expect(active.backtest).toMatchObject([
      { currency: 'EUR', predicted: '5.00', actual: '17.50', customers: 2 },
      { currency: 'USD', predicted: '10.00', actual: '15.00', customers: 2 },
    ])
  })

  it('counts the API row of an order the pixel also recorded, and forgets an erased customer', async () => {
    // K bought gift K-1 40 days ago (API, 70 EUR); the public pixel recorded the same order id now, for 999 EUR.
    expect((await s.api('POST', '/v1/campaigns', { name: 'Pixel', id: 'pix', tracking: { clickIdParam: 'sl_cid', utm: false } })).status).toBe(201)
    expect((await s.api('POST', '/v1/campaigns/pix/links', { url: 'https://shop.example/' })).status).toBe(201)
    const sent = await s.api('POST', '/v1/campaigns/pix/sends', { recipients: [{ id: 'K' }, { id: 'L' }] })
    const cid = await readerClick(sent.body.recipients[0].links[0].url)
    expect(cid).toBeTruthy()
    expect((await fetch(`${s.url}/t/conversion.gif?cid=${encodeURIComponent(cid!)}&order=K-1&amount=999&currency=EUR&type=gift`)).status).toBe(200)
    await s.flush()
    const api = await s.api('POST', '/v1/conversions', {
      conversions: [
        { recipientId: 'K', orderId: 'K-1', amount: '70', currency: 'EUR', type: 'gift', at: new Date(NOW - 40 * DAY).toISOString() },
        // L: 45 and 10 days ago, so active at both ends of the window and 25 EUR inside it.
        { recipientId: 'L', orderId: 'L-1', amount: '5', currency: 'EUR', type: 'gift', at: new Date(NOW - 45 * DAY).toISOString() },
        { recipientId: 'L', orderId: 'L-2', amount: '25', currency: 'EUR', type: 'gift', at: new Date(NOW - 10 * DAY).toISOString() },
      ],
    })
    expect(api.body.created).toBe(3)
    await s.flush()
    const rows = await s.deps.events.client.query({ query: `SELECT count() AS n FROM ${s.deps.events.db}.purchases WHERE order_id = 'K-1'`, format: 'JSONEachRow' })
    expect(await rows.json()).toEqual([{ n: 2 }])

    // The API row: K new 30 days ago (first purchase 10 days before), active now; with the pixel's row K would be acquired now.
    const w = (await s.api('GET', '/v1/lifecycle/transitions?type=gift&horizon=P30D&windows=1')).body.windows[0]
    expect(w).toMatchObject({ customers: 2, acquired: 0 })
    expect(counts(w.rows)).toEqual({ new: { active: 2 }, active: {}, lapsing: {}, lapsed: {} })
    const v = Object.fromEntries((await s.api('GET', '/v1/lifecycle/value?type=gift&horizon=P30D')).body.stages.map((x: { stage: string }) => [x.stage, x]))
    // New 30 days ago: K (nothing since) and L (25 EUR since): 12.50 each, not (999 + 25) / 2.
    expect(v.new).toMatchObject({ customers: 2, value: [{ currency: 'EUR', revenue: '25.00', mean: '12.50' }] })

    expect((await s.api('DELETE', '/v1/recipients/K')).status).toBe(200)
    const after = (await s.api('GET', '/v1/lifecycle/transitions?type=gift&horizon=P30D&windows=1')).body.windows[0]
    expect(after).toMatchObject({ customers: 1, acquired: 0 })
    const left = await s.deps.events.client.query({ query: `SELECT count() AS n FROM ${s.deps.events.db}.customer_orders WHERE recipient_id = 'K'`, format: 'JSONEachRow' })
    expect(await left.json()).toEqual([{ n: 0 }])
    expect((await s.api('GET', '/v1/lifecycle/value?type=gift&horizon=P30D')).body.stages[0]).toMatchObject({ customers: 1, value: [{ currency: 'EUR', mean: '25.00' }] })
  })
})
