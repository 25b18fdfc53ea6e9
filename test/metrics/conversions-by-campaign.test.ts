import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttributionOptions } from '../../src/metrics/attribution.js'
import { conversionsByCampaign, conversionsByDimension, denominators, denominatorsByCampaign } from '../../src/metrics/conversion-groups.js'
import { revenueMoments, revenueMomentsByCampaign } from '../../src/metrics/revenue-moments.js'
import { chDateTime } from '../../src/store/clickhouse.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { insertEvents, insertSends } from './fixture.js'

/*
 * The grouped queries of a cross-campaign conversion comparison against the one-campaign queries
 * they replace, campaign by campaign, on random histories with what attribution must get right:
 * an order posted as a click-id row of one campaign and a recipient-only row touching another
 * (the earliest row decides), an order posted twice recipient-only, ties in time, touches of a
 * campaign outside the comparison, conversions without a currency, machine clicks, a window.
 */
const CAMPAIGNS = ['x', 'y', 'z']
const T0 = Date.parse('2026-02-02T10:00:00Z')
const MIN = 60_000
let s: TestServer

let seed = 11
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!

beforeAll(async () => {
  s = await startTestServer()
  const recipients = Array.from({ length: 50 }, (_, i) => `r${i}`)
  const sends = CAMPAIGNS.flatMap((c) => recipients.filter(() => rnd() < 0.7).map((r) => ({ campaign_id: c, recipient_id: r, sent_at: chDateTime(T0) })))
  await insertSends(s, sends)
  await insertEvents(
    s,
    Array.from({ length: 120 }, () => ({
      type: 'click' as const,
      ts: chDateTime(T0 + Math.floor(rnd() * 600) * MIN),
      campaign_id: pick(CAMPAIGNS),
      recipient_id: pick(recipients),
      link_id: 'l1',
      class: rnd() < 0.2 ? 'scanner_click' : 'human',
    })),
  )
  const touched = [...CAMPAIGNS, 'w']
  const conversions: object[] = []
  for (let i = 0; i < 150; i++) {
    const recipient = pick(recipients)
    const ts = T0 + Math.floor(rnd() * 40) * 60 * MIN
    const touchAt = ts - Math.floor(rnd() * 12) * 24 * 60 * MIN
    const currency = pick(['EUR', 'EUR', 'USD', ''])
    const order = rnd() < 0.3 && conversions.length ? (pick(conversions) as { order_id: string }).order_id : `o${i}`
    const touch = { campaign: pick(touched), link: 'l1', ts: touchAt, type: pick(['click', 'open']) }
    const kind = pick(['click_id', 'named', 'recipient', 'recipient'])
    conversions.push({
      event_id: randomUUID(),
      type: 'conversion',
      ts: chDateTime(rnd() < 0.1 ? T0 : ts),
      campaign_id: kind === 'recipient' ? '' : pick(CAMPAIGNS),
      link_id: kind === 'click_id' ? 'l1' : '',
      recipient_id: recipient,
      token_valid: true,
      method: 'POST',
      class: 'human',
      amount: currency ? (Math.floor(rnd() * 10000) / 100).toFixed(2) : '0',
      currency,
      order_id: order,
      extra: JSON.stringify({ kind: 'purchase', lastClick: touch.type === 'click' ? touch : undefined, lastTouch: touch }),
    })
  }
  await s.deps.events.client.insert({
    table: `${s.deps.events.db}.events`,
    values: conversions,
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
  })
})
afterAll(async () => {
  await s.stop()
})

describe('conversions of several campaigns in grouped queries', () => {
  const cases: AttributionOptions[] = [
    {},
    { model: 'open', windowMs: 30 * 24 * 60 * MIN },
    { traffic: 'all', windowMs: 2 * 24 * 60 * MIN, from: T0 + 5 * 60 * MIN, to: T0 + 30 * 60 * MIN },
  ]
  for (const opts of cases) {
    it(`equal the one-campaign queries, campaign by campaign (${JSON.stringify(opts)})`, async () => {
      const ids = [...CAMPAIGNS, 'nosends']
      const [orders, dens] = await Promise.all([conversionsByCampaign(s.deps.events, ids, opts), denominatorsByCampaign(s.deps.events, ids, opts)])
      let converters = 0
      for (const id of ids) {
        const one = (await conversionsByDimension(s.deps.events, id, null, opts)).get('')
        expect(orders.get(id), id).toEqual(one && { ...one, key: id })
        const [d] = await denominators(s.deps.events, id, null, opts)
        expect(dens.get(id), id).toEqual(d && { ...d, key: id })
        converters += one?.converters ?? 0
      }
      // The fixture exercises what it is meant to.
      expect(converters).toBeGreaterThan(5)
      for (const currency of ['EUR', 'USD']) {
        const many = new Map((await revenueMomentsByCampaign(s.deps.events, ids, currency, opts)).map((m) => [m.key, m]))
        for (const id of ids) {
          const [one] = await revenueMoments(s.deps.events, id, null, currency, opts)
          const got = many.get(id)
          if (!one) {
            expect(got).toBeUndefined()
            continue
          }
          expect(got).toMatchObject({ key: id, n: one.n })
          expect(got!.sum).toBeCloseTo(one.sum, 6)
          expect(got!.sumSquares).toBeCloseTo(one.sumSquares, 4)
        }
      }
    })
  }
})
