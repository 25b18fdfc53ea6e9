import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lapseDay, quantile } from '../../src/metrics/lifecycle.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { DAY } from './shop.js'

const NOW = Date.parse('2026-06-01T00:00:00Z')
let s: TestServer

// Customer → purchases as [days before NOW, EUR amount].
const FIXTURE: Record<string, Array<[number, string]>> = {
  A: [[200, '100'], [190, '50']], // gap 10; last 190 days ago → lapsed
  B: [[150, '20'], [130, '30'], [10, '40']], // gap 20; last 10 → active
  C: [[120, '60']], // one order 120 days ago → lapsing
  D: [[100, '10'], [60, '10']], // gap 40; last 60 → active
  E: [[20, '70']], // first 20 days ago → new
  F: [[80, '25']], // one order 80 days ago → active
  G: [[5, '10'], [2, '5']], // first 5 days ago → new; gap 3
}

/*
 * Refills: customer → [order id, days before NOW, amount, currency ('' : none given)].
 * P's first two orders share their instant: the order id breaks the tie (P-a is the first purchase).
 * Q's first order has no amount: it is Q's first purchase, so no currency gets a first purchase from Q.
 */
const REFILLS: Record<string, Array<[string, number, string, string]>> = {
  P: [['P-b', 100, '30', 'USD'], ['P-a', 100, '20', 'EUR'], ['P-c', 10, '5', 'USD']],
  Q: [['Q-0', 50, '', ''], ['Q-1', 40, '15', 'EUR'], ['Q-2', 5, '7', 'EUR']],
  R: [['R-0', 20, '12', 'USD'], ['R-1', 3, '8', 'USD']],
}

beforeAll(async () => {
  s = await startTestServer({ clock: () => NOW })
  const conversions = Object.entries(FIXTURE).flatMap(([who, orders]) =>
    orders.map(([d, amount], i) => ({ recipientId: who, orderId: `${who}-${i}`, amount, currency: 'EUR', at: new Date(NOW - d * DAY).toISOString() })),
  )
  // Not purchases, or not yet happened at NOW: left out.
  conversions.push({ recipientId: 'A', orderId: 'A-signup', amount: '0', currency: 'EUR', at: new Date(NOW - DAY).toISOString(), type: 'signup' } as never)
  expect((await s.api('POST', '/v1/conversions', { conversions })).status).toBe(201)
  expect((await s.api('POST', '/v1/conversions', { recipientId: 'A', orderId: 'A-0', amount: '100', currency: 'EUR' })).body.duplicate).toBe(true)
  // Refills, in two currencies, for the per-currency shares (the refill type is its own set of customers).
  const refills = Object.entries(REFILLS).flatMap(([who, orders]) =>
    orders.map(([id, d, amount, currency]) => ({ recipientId: who, orderId: id, type: 'refill', at: new Date(NOW - d * DAY).toISOString(), ...(currency ? { amount, currency } : {}) })),
  )
  expect((await s.api('POST', '/v1/conversions', { conversions: refills })).status).toBe(201)
  await s.flush()
})
afterAll(async () => {
  await s.stop()
})

describe('GET /v1/lifecycle', () => {
  it('matches the hand-computed figures', async () => {
    const r = await s.api('GET', '/v1/lifecycle?horizonDays=60')
    expect(r.status).toBe(200)
    const b = r.body
    expect(b.asOf).toBe('2026-06-01T00:00:00.000Z')
    expect(b.customers).toBe(7)
    expect(b.orders).toBe(12)
    // First orders 100+20+60+10+70+25+10 = 295, later ones 50+30+40+10+5 = 135, of 430.
    expect(b.revenueShare).toMatchObject({ currency: 'EUR', revenue: { firstPurchase: '295.00', repeat: '135.00' } })
    expect(b.revenueShare.firstPurchase).toBeCloseTo(295 / 430, 12)
    expect(b.revenueShare.repeat).toBeCloseTo(135 / 430, 12)
    // Gaps 3, 10, 20, 40: median (10+20)/2, p90 = 20 + 0.7 × 20.
    expect(b.timeToSecondPurchase).toMatchObject({ customers: 4, median: 15, p90: 34 })
    // Observed ≥ 60 days: A(10) B(20) C(-) D(40) F(-). p(d) = 3/5 for d < 10, 2/4 for 10 ≤ d < 20, 1/3 at 20.
    expect(b.lapseAfterDays).toBe(20)
    expect(b.lapse).toMatchObject({ threshold: 0.5, horizonDays: 60, observedCustomers: 5 })
    const stages = Object.fromEntries(b.stages.map((x: { stage: string }) => [x.stage, x]))
    expect(stages.new).toMatchObject({ customers: 2, revenueLast30Days: { EUR: '85.00' } })
    expect(stages.active).toMatchObject({ customers: 3, revenueLast30Days: { EUR: '40.00' } })
    expect(stages.lapsing).toMatchObject({ customers: 1, revenueLast30Days: {} })
    expect(stages.lapsed).toMatchObject({ customers: 1, revenueLast30Days: {} })
    expect(b.thresholds).toEqual({ newDays: 30, activeDays: 90, lapsedDays: 180, revenueWindowDays: 30 })
  })

  it('takes thresholds and an as-of instant', async () => {
    const r = await s.api('GET', '/v1/lifecycle?activeDays=50&lapsedDays=125&at=2026-06-01T00:00:00Z')
    const stages = Object.fromEntries(r.body.stages.map((x: { stage: string; customers: number }) => [x.stage, x.customers]))
    // B (10) active; D (60) and F (80) lapsing; C (120) lapsing; A (190) lapsed.
    expect(stages).toEqual({ new: 2, active: 1, lapsing: 3, lapsed: 1 })
    // Nobody first bought 365 days before: no estimate.
    expect(r.body.lapseAfterDays).toBeNull()
    const bad = await s.api('GET', '/v1/lifecycle?activeDays=200')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('query.activeDays')
    expect((await s.api('GET', '/v1/lifecycle?newDays=x')).body.error.message).toContain('query.newDays')
  })

  it('answers zeros for a type nobody bought', async () => {
    const b = (await s.api('GET', '/v1/lifecycle?type=gift')).body
    expect(b).toMatchObject({ customers: 0, orders: 0, revenueShareByCurrency: {}, lapseAfterDays: null })
    expect(b.revenueShare).toMatchObject({ currency: null, firstPurchase: 0, repeat: 0, revenue: { firstPurchase: '0.00', repeat: '0.00' } })
    expect(b.timeToSecondPurchase).toMatchObject({ customers: 0, median: null })
    expect(b.stages.map((x: { customers: number; revenueLast30Days: object }) => [x.customers, x.revenueLast30Days])).toEqual([[0, {}], [0, {}], [0, {}], [0, {}]])
  })
})

describe('GET /v1/lifecycle, several currencies', () => {
  it('splits first and repeat revenue per currency, ties broken by order id', async () => {
    const b = (await s.api('GET', '/v1/lifecycle?type=refill&horizonDays=60')).body
    expect(b.customers).toBe(3)
    expect(b.orders).toBe(8)
    // USD has the most orders (4 to 3): the headline currency.
    expect(b.revenueShare).toMatchObject({ currency: 'USD', revenue: { firstPurchase: '12.00', repeat: '43.00' } })
    expect(b.revenueShare.firstPurchase).toBeCloseTo(12 / 55, 12)
    expect(b.revenueShareByCurrency).toEqual({
      EUR: { firstPurchase: 20 / 42, repeat: 22 / 42, revenue: { firstPurchase: '20.00', repeat: '22.00' } },
      USD: { firstPurchase: 12 / 55, repeat: 43 / 55, revenue: { firstPurchase: '12.00', repeat: '43.00' } },
    })
    // Gaps 0 (P, same instant), 10 (Q), 17 (R).
    expect(b.timeToSecondPurchase).toMatchObject({ customers: 3, median: 10, p25: 5, p75: 13.5, p90: 15.6 })
    // Only P first bought 60 days or more before: it bought again at once.
    expect(b.lapseAfterDays).toBe(0)
    expect(b.lapse.observedCustomers).toBe(1)
    const stages = Object.fromEntries(b.stages.map((x: { stage: string }) => [x.stage, x]))
    expect(stages.new).toMatchObject({ customers: 1, revenueLast30Days: { USD: '20.00' } })
    expect(stages.active.customers).toBe(2)
    expect(stages.active.revenueLast30Days).toEqual({ EUR: '7.00', USD: '5.00' })
    expect(stages.lapsing.customers + stages.lapsed.customers).toBe(0)
    const eur = (await s.api('GET', '/v1/lifecycle?type=refill&currency=EUR')).body.revenueShare
    expect(eur).toMatchObject({ currency: 'EUR', revenue: { firstPurchase: '20.00', repeat: '22.00' } })
    expect(eur.firstPurchase).toBeCloseTo(20 / 42, 12)
  })
})

describe('lifecycle helpers', () => {
  it('quantile and lapse day', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([], 0.5)).toBeNull()
    expect(lapseDay([null, null, 5], 30, 0.5)).toBe(0)
    expect(lapseDay([1, 2, null], 30, 0.5)).toBe(2)
    expect(lapseDay([], 30, 0.5)).toBeNull()
  })

  it('lapse day equals its definition on random histories (p(d) = returning later / still without a second purchase)', () => {
    const definition = (gaps: Array<number | null>, horizon: number, threshold: number) => {
      for (let d = 0; d <= horizon; d++) {
        const atRisk = gaps.filter((g) => g === null || g > horizon || g > d)
        const later = atRisk.filter((g) => g !== null && g <= horizon).length
        if (atRisk.length === 0 || later / atRisk.length < threshold) return d
      }
      return horizon
    }
    let seed = 7
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    for (let k = 0; k < 200; k++) {
      const gaps = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => (rnd() < 0.3 ? null : Math.floor(rnd() * 120)))
      const horizon = 10 + Math.floor(rnd() * 100)
      const threshold = 0.05 + rnd() * 0.5
      expect(lapseDay(gaps, horizon, threshold), JSON.stringify({ gaps, horizon, threshold })).toBe(definition(gaps, horizon, threshold))
    }
  })
})
