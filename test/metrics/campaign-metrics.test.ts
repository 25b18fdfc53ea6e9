import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { csvField } from '../../src/metrics/audience.js'
import { parseDimension } from '../../src/metrics/facts.js'
import { withIntervals } from '../../src/metrics/segments.js'
import { timingAndGroups } from '../../src/metrics/timing.js'
import { projectCount, sampleSizePerGroup, wilson, differenceInterval, relativeDifferenceInterval } from '../../src/metrics/statistics.js'
import { listLinks, upsertLink } from '../../src/services/campaigns.js'
import { campaignStats } from '../../src/metrics/campaign-stats.js'
import { linkStats } from '../../src/metrics/link-stats.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'
import { insertEvents, insertSends } from './fixture.js'

/*
 * Hand fixture, campaign "hand", sent Monday 2026-01-05 10:00:00 UTC to five recipients:
 *   r1 A [vip, fr] FR: opens 10:10 and 11:00; clicks L1 10:20, L1 10:21, L3 12:00
 *   r2 A [fr] FR:      open 10:30; an Apple MPP prefetch at 10:00:05 (machine)
 *   r3 B [vip] DE:     click L2 11:00, no open (images blocked)
 *   r4 B [] —:         Apple MPP open 10:00:01, scanner click L1 10:00:02 (machine only)
 *   r5 B [fr] DE:      unsubscribes 13:00
 *   invalid token:     one open and one click on L3 at 14:00
 * L1 and L2 go to the same URL (two positions), L3 elsewhere.
 */
let s: TestServer
let L1: string, L2: string, L3: string
const day = '2026-01-05 '

beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { id: 'hand', name: 'Hand fixture' })
  // Positions are set by template compilation; the service takes them directly.
  L1 = (await upsertLink(s.deps, 'hand', { url: 'https://a.example/x', label: 'hero', position: 0 })).link.id
  L2 = (await upsertLink(s.deps, 'hand', { url: 'https://a.example/x', label: 'footer', position: 1 })).link.id
  L3 = (await upsertLink(s.deps, 'hand', { url: 'https://b.example/', label: 'other', position: 2 })).link.id
  const sent_at = day + '10:00:00.000'
  await insertSends(s, [
    { campaign_id: 'hand', recipient_id: 'r1', sent_at, variant: 'A', segments: ['vip', 'fr'], attributes: { country: 'FR' } },
    { campaign_id: 'hand', recipient_id: 'r2', sent_at, variant: 'A', segments: ['fr'], attributes: { country: 'FR' } },
    { campaign_id: 'hand', recipient_id: 'r3', sent_at, variant: 'B', segments: ['vip'], attributes: { country: 'DE' } },
    { campaign_id: 'hand', recipient_id: 'r4', sent_at, variant: 'B' },
    { campaign_id: 'hand', recipient_id: 'r5', sent_at, variant: 'B', segments: ['fr'], attributes: { country: 'DE' } },
  ])
  const c = 'hand'
  await insertEvents(s, [
    { type: 'open', ts: day + '10:10:00.000', campaign_id: c, recipient_id: 'r1' },
    { type: 'open', ts: day + '11:00:00.000', campaign_id: c, recipient_id: 'r1' },
    { type: 'click', ts: day + '10:20:00.000', campaign_id: c, recipient_id: 'r1', link_id: L1 },
    { type: 'click', ts: day + '10:21:00.000', campaign_id: c, recipient_id: 'r1', link_id: L1 },
    { type: 'click', ts: day + '12:00:00.000', campaign_id: c, recipient_id: 'r1', link_id: L3 },
    { type: 'open', ts: day + '10:30:00.000', campaign_id: c, recipient_id: 'r2' },
    { type: 'open', ts: day + '10:00:05.000', campaign_id: c, recipient_id: 'r2', class: 'machine_open', reasons: ['apple_mpp'] },
    { type: 'click', ts: day + '11:00:00.000', campaign_id: c, recipient_id: 'r3', link_id: L2 },
    { type: 'open', ts: day + '10:00:01.000', campaign_id: c, recipient_id: 'r4', class: 'machine_open', reasons: ['apple_mpp'] },
    { type: 'click', ts: day + '10:00:02.000', campaign_id: c, recipient_id: 'r4', link_id: L1, class: 'scanner_click', reasons: ['scanner_ip', 'head_request'] },
    { type: 'unsubscribe', ts: day + '13:00:00.000', campaign_id: c, recipient_id: 'r5' },
    { type: 'open', ts: day + '14:00:00.000', campaign_id: c, recipient_id: '' },
    { type: 'click', ts: day + '14:00:00.000', campaign_id: c, recipient_id: '', link_id: L3 },
  ])
})
afterAll(async () => {
  await s.stop()
})

describe('GET /v1/campaigns/:id/stats', () => {
  it('counts the hand fixture exactly (human traffic by default)', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/stats')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      campaignId: 'hand',
      traffic: 'human',
      sent: 5,
      // The invalid-token open and click are under invalidToken only (and in traffic=all).
      opens: { total: 3, unique: 2, rate: 0.4 },
      clicks: { total: 4, unique: 2, rate: 0.4, clickToOpenRate: 2 / 3 },
      unsubscribes: { total: 1, unique: 1, rate: 0.2 },
      rates: {
        open: { value: 0.4, numerator: 2, denominator: 5, definition: 'unique openers / sent' },
        click: { value: 0.4, numerator: 2, denominator: 5, definition: 'unique clickers / sent' },
        clickToOpen: { value: 2 / 3, numerator: 2, denominator: 3, definition: expect.any(String) },
        unsubscribe: { value: 0.2, numerator: 1, denominator: 5, definition: 'unique unsubscribers / sent' },
        conversion: { value: 0, numerator: 0, denominator: 5, definition: 'converters / sent' },
        clickerConversion: { value: 0, numerator: 0, denominator: 2, definition: 'converters / unique clickers' },
      },
      firstEventAt: '2026-01-05T10:10:00.000Z',
      lastEventAt: '2026-01-05T14:00:00.000Z',
      // First opens after 600 s (r1) and 1800 s (r2): median 1200, p90 600 + 0.9 × 1200 = 1680.
      timeToFirstOpen: { count: 2, medianSeconds: 1200, p90Seconds: 1680 },
      // First clicks after 1200 s (r1) and 3600 s (r3): median 2400, p90 1200 + 0.9 × 2400 = 3360.
      timeToFirstClick: { count: 2, medianSeconds: 2400, p90Seconds: 3360 },
      machine: { opens: { total: 2, byReason: { apple_mpp: 2 } }, clicks: { total: 1, byReason: { head_request: 1, scanner_ip: 1 } } },
      invalidToken: { opens: 1, clicks: 1 },
      conversions: noConversions(5, 2),
    })
  })

  it('traffic=all and traffic=machine; the machine breakdown stays', async () => {
    const all = await s.api('GET', '/v1/campaigns/hand/stats?traffic=all')
    expect(all.body).toMatchObject({ opens: { total: 6, unique: 3 }, clicks: { total: 6, unique: 3 }, firstEventAt: '2026-01-05T10:00:01.000Z' })
    expect(all.body.machine.opens.total).toBe(2)
    const machine = await s.api('GET', '/v1/campaigns/hand/stats?traffic=machine')
    expect(machine.body).toMatchObject({ opens: { total: 2, unique: 2 }, clicks: { total: 1, unique: 1 }, unsubscribes: { total: 0 } })
    // r4's machine open came 1 s after the send, r2's after 5 s.
    expect(machine.body.timeToFirstOpen).toEqual({ count: 2, medianSeconds: 3, p90Seconds: 4.6 })
  })

  it('from/to bound the events, not the sends', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/stats?from=2026-01-05T10:25:00Z&to=2026-01-05T12:00:00Z')
    // Left: r2 open 10:30, r1 open 11:00, r3 click 11:00 (12:00 is excluded).
    expect(r.body).toMatchObject({ sent: 5, opens: { total: 2, unique: 2 }, clicks: { total: 1, unique: 1 } })
  })

  it('rejects bad input, naming the parameter; unknown campaign is 404', async () => {
    const order = await s.api('GET', '/v1/campaigns/hand/stats?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')
    expect(order.status).toBe(400)
    expect(order.body.error.message).toMatch(/^query\.from/)
    const bad = await s.api('GET', '/v1/campaigns/hand/stats?from=yesterday')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/^query\.from/)
    const traffic = await s.api('GET', '/v1/campaigns/hand/stats?traffic=robots')
    expect(traffic.status).toBe(400)
    expect(traffic.body.error.message).toMatch(/^query\.traffic/)
    expect((await s.api('GET', '/v1/campaigns/nope/stats')).status).toBe(404)
  })
})

/** The conversions block of a row without any order (this fixture has none: test/conversions/metrics-wiring.test.ts has them). */
const noConversions = (sent: number, clickers: number) => ({ total: 0, converters: 0, rate: 0, clickers, clickerRate: 0, revenue: {}, revenuePerRecipient: {}, averageOrderValue: {} })

describe('GET /v1/campaigns/:id/links/stats', () => {
  it('with the totals campaignStats counted, the same figures as counting them itself', async () => {
    const links = await listLinks(s.deps, 'hand')
    for (const traffic of ['human', 'all'] as const) {
      const st = await campaignStats(s.deps.events, 'hand', { traffic })
      const own = await linkStats(s.deps.events, 'hand', links, { traffic })
      expect(await linkStats(s.deps.events, 'hand', links, { traffic }, { sent: st.sent, uniqueOpeners: st.opens.unique, uniqueClickers: st.clicks.unique })).toEqual(own)
    }
  })

  it('per link and per URL', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/links/stats')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ sent: 5, uniqueOpeners: 2, uniqueClickers: 2 })
    expect(r.body.links).toEqual([
      // L1: r1 twice. Openers r1, r2; r2 did not click it.
      { linkId: L1, url: 'https://a.example/x', label: 'hero', position: 0, version: 0, disabled: false, clicks: 2, uniqueClickers: 1, shareOfRecipients: 0.2, shareOfClickers: 0.5, openersNotClicked: 1, shareOfOpenersNotClicked: 0.5, conversions: noConversions(5, 1) },
      // L2: r3, who never opened: both openers ignored it.
      { linkId: L2, url: 'https://a.example/x', label: 'footer', position: 1, version: 0, disabled: false, clicks: 1, uniqueClickers: 1, shareOfRecipients: 0.2, shareOfClickers: 0.5, openersNotClicked: 2, shareOfOpenersNotClicked: 1, conversions: noConversions(5, 1) },
      // L3: r1 (and one invalid-token click, counted with traffic=all only).
      { linkId: L3, url: 'https://b.example/', label: 'other', position: 2, version: 0, disabled: false, clicks: 1, uniqueClickers: 1, shareOfRecipients: 0.2, shareOfClickers: 0.5, openersNotClicked: 1, shareOfOpenersNotClicked: 0.5, conversions: noConversions(5, 1) },
    ])
    expect(r.body.byUrl).toEqual([
      { url: 'https://a.example/x', linkIds: [L1, L2], clicks: 3, uniqueClickers: 2, shareOfRecipients: 0.4, shareOfClickers: 1, openersNotClicked: 1, shareOfOpenersNotClicked: 0.5, conversions: noConversions(5, 2) },
      { url: 'https://b.example/', linkIds: [L3], clicks: 1, uniqueClickers: 1, shareOfRecipients: 0.2, shareOfClickers: 0.5, openersNotClicked: 1, shareOfOpenersNotClicked: 0.5, conversions: noConversions(5, 1) },
    ])
  })

  it('machine traffic shows the scanner click', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/links/stats?traffic=machine')
    expect(r.body.links[0]).toMatchObject({ linkId: L1, clicks: 1, uniqueClickers: 1 })
  })
})

const rates = (sent: number, openers: number, clickers: number, engaged: number) => ({
  sent,
  uniqueOpeners: openers,
  uniqueClickers: clickers,
  engaged,
  openRate: wilson(openers, sent),
  clickRate: wilson(clickers, sent),
  clickToOpenRate: wilson(clickers, engaged),
  conversionRate: wilson(0, sent),
  conversions: noConversions(sent, clickers),
})

describe('GET /v1/campaigns/:id/segments', () => {
  it('by segment: a recipient counts in each of its segments', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/segments?by=segment')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      campaignId: 'hand',
      by: 'segment',
      linkId: null,
      rows: [
        { key: 'fr', ...rates(3, 2, 1, 2) },
        { key: 'vip', ...rates(2, 1, 2, 2) },
      ],
    })
    // Wilson 2/3 by hand: centre (2/3 + 1.92/3)/(1 + 3.8415/3), half 1.96·√(2/27 + 3.8415/36)/(…) → [0.2077, 0.9385]
    expect(r.body.rows[0].openRate.low).toBeCloseTo(0.2077, 4)
    expect(r.body.rows[0].openRate.high).toBeCloseTo(0.9385, 4)
  })

  it('by variant, by attribute, and one link', async () => {
    const v = await s.api('GET', '/v1/campaigns/hand/segments?by=variant')
    expect(v.body.rows).toEqual([
      { key: 'A', ...rates(2, 2, 1, 2) },
      { key: 'B', ...rates(3, 0, 1, 1) },
    ])
    const a = await s.api('GET', '/v1/campaigns/hand/segments?by=attribute:country')
    expect(a.body.rows).toEqual([
      { key: '', ...rates(1, 0, 0, 0) },
      { key: 'DE', ...rates(2, 0, 1, 1) },
      { key: 'FR', ...rates(2, 2, 1, 2) },
    ])
    const l = await s.api('GET', `/v1/campaigns/hand/segments?by=variant&linkId=${L1}`)
    expect(l.body.rows.map((x: { key: string; uniqueClickers: number }) => [x.key, x.uniqueClickers])).toEqual([
      ['A', 1],
      ['B', 0],
    ])
  })

  it("the campaign page's pass (several dimensions at once) gives each dimension the rows the endpoint gives", async () => {
    const dims = ['segment', 'variant', 'attribute:country'] as const
    const { groups } = await timingAndGroups(s.deps.events, 'hand', null, 'UTC', { traffic: 'human' }, dims.map((d) => parseDimension(d)!), { stats: true })
    for (const [i, d] of dims.entries()) {
      const r = await s.api('GET', `/v1/campaigns/hand/segments?by=${d}`)
      expect(withIntervals(groups[i]!)).toEqual(r.body.rows.map(({ conversionRate: _c, conversions: _v, ...row }: Record<string, unknown>) => row))
    }
  })

  it('names a bad dimension or link', async () => {
    const by = await s.api('GET', '/v1/campaigns/hand/segments?by=planet')
    expect(by.status).toBe(400)
    expect(by.body.error.message).toMatch(/^query\.by/)
    const link = await s.api('GET', '/v1/campaigns/hand/segments?by=variant&linkId=nolink')
    expect(link.status).toBe(400)
    expect(link.body.error.message).toMatch(/^query\.linkId/)
    expect((await s.api('GET', '/v1/campaigns/nope/segments?by=variant')).status).toBe(404)
  })
})

describe('compare and projection', () => {
  it('by variant on the hand fixture: not enough data, with the sends needed', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/compare?by=variant')
    expect(r.status).toBe(200)
    expect(r.body.metric).toBe('click_rate')
    expect(r.body.rows).toEqual([
      { key: 'A', sent: 2, trials: 2, successes: 1, rate: wilson(1, 2) },
      { key: 'B', sent: 3, trials: 3, successes: 1, rate: wilson(1, 3) },
    ])
    expect(r.body.differences).toEqual([{ key: 'B', versus: 'A', absolute: differenceInterval(1, 3, 1, 2), relative: relativeDifferenceInterval(1, 3, 1, 2) }])
    expect(r.body.test).toMatchObject({ name: 'two_proportion_z', pValue: null, significant: false, winner: null, reason: 'not_enough_data' })
    expect(r.body.test.neededPerGroup).toBe(sampleSizePerGroup(0.5, 1 / 3, 0.05))
    const cto = await s.api('GET', '/v1/campaigns/hand/compare?by=variant&metric=click_to_open_rate&listSize=1000')
    expect(cto.body.rows.map((x: { trials: number; successes: number }) => [x.trials, x.successes])).toEqual([
      [2, 1],
      [1, 1],
    ])
    expect(cto.body.projection).toEqual({
      listSize: 1000,
      rows: [
        { key: 'A', opens: projectCount(2, 2, 1000), clicks: projectCount(1, 2, 1000) },
        { key: 'B', opens: projectCount(0, 3, 1000), clicks: projectCount(1, 3, 1000) },
      ],
    })
  })

  it('across campaigns: 120/1000 vs 90/1000 clickers is significant (p = 0.02865)', async () => {
    for (const [id, clickers] of [
      ['ab-a', 120],
      ['ab-b', 90],
    ] as const) {
      await s.api('POST', '/v1/campaigns', { id, name: id })
      await insertSends(s, Array.from({ length: 1000 }, (_, i) => ({ campaign_id: id, recipient_id: `u${i}`, sent_at: day + '09:00:00.000' })))
      await insertEvents(s, Array.from({ length: clickers }, (_, i) => ({ type: 'click' as const, ts: day + '09:30:00.000', campaign_id: id, recipient_id: `u${i}`, link_id: 'x' })))
    }
    const r = await s.api('GET', '/v1/compare?campaigns=ab-b,ab-a')
    expect(r.status).toBe(200)
    expect(r.body.rows.map((x: { key: string; successes: number }) => [x.key, x.successes])).toEqual([
      ['ab-b', 90],
      ['ab-a', 120],
    ])
    expect(r.body.test.pValue).toBeCloseTo(0.028650240398448427, 10)
    expect(r.body.test).toMatchObject({ name: 'two_proportion_z', significant: true, winner: 'ab-a', reason: null })
    const strict = await s.api('GET', '/v1/compare?campaigns=ab-b,ab-a&alpha=0.01')
    expect(strict.body.test).toMatchObject({ significant: false, winner: null })
    const three = await s.api('GET', '/v1/compare?campaigns=ab-b,ab-a,hand&metric=open_rate')
    expect(three.body.test.name).toBe('chi_square')
  })

  it('projection of a test send', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/projection?listSize=100000')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ campaignId: 'hand', listSize: 100000, sent: 5, opens: projectCount(2, 5, 100000), clicks: projectCount(2, 5, 100000) })
  })

  it('validation: metric, campaigns, alpha, 404', async () => {
    const m = await s.api('GET', '/v1/compare?campaigns=ab-a,ab-b&metric=revenue')
    expect(m.status).toBe(400)
    expect(m.body.error.message).toMatch(/^query\.metric/)
    const one = await s.api('GET', '/v1/compare?campaigns=ab-a')
    expect(one.status).toBe(400)
    expect(one.body.error.message).toMatch(/^query\.campaigns/)
    expect((await s.api('GET', '/v1/compare?campaigns=ab-a,nope')).status).toBe(404)
    const by = await s.api('GET', '/v1/campaigns/hand/compare?by=segment')
    expect(by.status).toBe(400)
    expect(by.body.error.message).toMatch(/^query\.by/)
    const ls = await s.api('GET', '/v1/campaigns/hand/projection')
    expect(ls.status).toBe(400)
    expect(ls.body.error.message).toMatch(/^query\.listSize/)
  })
})

describe('GET /v1/campaigns/:id/timeseries', () => {
  const series = async (q: string) => {
    const r = await s.api('GET', `/v1/campaigns/hand/timeseries?${q}`)
    expect(r.status).toBe(200)
    return r.body.buckets.map((b: { start: string; local: string; value: number }) => [b.start, b.local, b.value])
  }

  it('hourly opens, zero-filled, from the first to the last event', async () => {
    expect(await series('metric=opens&interval=hour')).toEqual([
      ['2026-01-05T10:00:00.000Z', '2026-01-05T10:00:00', 2],
      ['2026-01-05T11:00:00.000Z', '2026-01-05T11:00:00', 1],
    ])
    // The invalid-token open at 14:00 counts with traffic=all only.
    expect((await series('metric=opens&interval=hour&traffic=all')).at(-1)).toEqual(['2026-01-05T14:00:00.000Z', '2026-01-05T14:00:00', 1])
  })

  it('hours of a half-hour time zone (Asia/Kolkata, +05:30)', async () => {
    expect(await series('metric=opens&interval=hour&tz=Asia/Kolkata')).toEqual([
      ['2026-01-05T09:30:00.000Z', '2026-01-05T15:00:00', 1],
      ['2026-01-05T10:30:00.000Z', '2026-01-05T16:00:00', 2],
    ])
  })

  it('unique clickers per day, invalid tokens left out; clicks per minute in a window', async () => {
    expect(await series('metric=unique_clickers&interval=day')).toEqual([['2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00', 2]])
    expect(await series('metric=clicks&interval=minute&from=2026-01-05T10:19:00Z&to=2026-01-05T10:22:00Z')).toEqual([
      ['2026-01-05T10:19:00.000Z', '2026-01-05T10:19:00', 0],
      ['2026-01-05T10:20:00.000Z', '2026-01-05T10:20:00', 1],
      ['2026-01-05T10:21:00.000Z', '2026-01-05T10:21:00', 1],
    ])
  })

  it('local days across a DST change (Europe/Paris, 2026-03-29 is 23 hours)', async () => {
    expect(await series('metric=opens&interval=day&tz=Europe/Paris&from=2026-03-28T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00')).toEqual([
      ['2026-03-27T23:00:00.000Z', '2026-03-28T00:00:00', 0],
      ['2026-03-28T23:00:00.000Z', '2026-03-29T00:00:00', 0],
      ['2026-03-29T22:00:00.000Z', '2026-03-30T00:00:00', 0],
    ])
  })

  it('takes a time zone in any case, as Intl does (ClickHouse wants the canonical spelling)', async () => {
    const canonical = await series('metric=opens&interval=day&tz=Europe/Paris&from=2026-03-28T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00')
    expect(await series('metric=opens&interval=day&tz=europe/paris&from=2026-03-28T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00')).toEqual(canonical)
    const timing = await s.api('GET', '/v1/campaigns/hand/timing?tz=asia/tokyo')
    expect(timing.status).toBe(200)
  })

  it('names unknown metric, interval, tz, and too many buckets', async () => {
    for (const [q, name] of [
      ['metric=bounces', 'query.metric'],
      ['interval=week', 'query.interval'],
      ['tz=Mars/Olympus', 'query.tz'],
      ['interval=minute&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.interval'],
      ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
    ]) {
      const r = await s.api('GET', `/v1/campaigns/hand/timeseries?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body.error.message.startsWith(name!), r.body.error.message).toBe(true)
    }
  })
})

describe('GET /v1/campaigns/:id/timing', () => {
  const hist = (...counts: Array<[number, number]>) => {
    const bounds = [0, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800]
    return bounds.map((b, i) => ({ fromSeconds: b, toSeconds: bounds[i + 1] ?? null, count: counts.find(([j]) => j === i)?.[1] ?? 0 }))
  }
  const at = (n: number, ...idx: Array<[number, number]>) => {
    const a = new Array(n).fill(0)
    for (const [i, v] of idx) a[i] = v
    return a
  }

  /** 7 weekdays (Monday first) of 24 hours, zero but the [weekday, hour, count] given. */
  const week = (...cells: Array<[number, number, number]>) => {
    const w = Array.from({ length: 7 }, () => new Array(24).fill(0))
    for (const [d, h, v] of cells) w[d]![h] = v
    return w
  }

  it('quantiles, histogram, hour and weekday of first open and click', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/timing')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      campaignId: 'hand',
      by: null,
      tz: 'UTC',
      groups: [
        {
          key: '',
          // first opens after 600 s and 1800 s
          firstOpen: { count: 2, quantiles: { p25: 900, p50: 1200, p75: 1500, p90: 1680 }, histogram: hist([1, 1], [3, 1]), byHour: at(24, [10, 2]), byWeekday: at(7, [0, 2]), byWeekdayHour: week([0, 10, 2]) },
          // first clicks after 1200 s and 3600 s (exactly on a bound: the upper bucket)
          firstClick: { count: 2, quantiles: { p25: 1800, p50: 2400, p75: 3000, p90: 3360 }, histogram: hist([2, 1], [4, 1]), byHour: at(24, [10, 1], [11, 1]), byWeekday: at(7, [0, 2]), byWeekdayHour: week([0, 10, 1], [0, 11, 1]) },
        },
      ],
    })
  })

  it('by variant, in Tokyo time', async () => {
    const r = await s.api('GET', '/v1/campaigns/hand/timing?by=variant&tz=Asia/Tokyo')
    expect(r.body.groups.map((g: { key: string; firstOpen: { count: number; byHour: number[] }; firstClick: { count: number } }) => [g.key, g.firstOpen.count, g.firstClick.count, g.firstOpen.byHour[19]])).toEqual([
      ['A', 2, 1, 2],
      ['B', 0, 1, 0],
    ])
    expect((await s.api('GET', '/v1/campaigns/hand/timing?by=planet')).body.error.message).toMatch(/^query\.by/)
  })
})

describe('GET /v1/recipients/:id/timeline', () => {
  it('newest first, paginated with a cursor, links resolved, machine events shown by default', async () => {
    const seen: Array<[string, string, string | null]> = []
    let next: string | null = null
    let pages = 0
    do {
      const r: { status: number; body: { events: Array<{ type: string; at: string; link: { label: string } | null; campaignId: string }>; next: string | null } } = await s.api(
        'GET',
        `/v1/recipients/r1/timeline?limit=2${next ? `&cursor=${next}` : ''}`,
      )
      expect(r.status).toBe(200)
      for (const e of r.body.events) seen.push([e.type, e.at, e.link?.label ?? null])
      next = r.body.next
      pages++
    } while (next)
    expect(pages).toBe(3)
    expect(seen).toEqual([
      ['click', '2026-01-05T12:00:00.000Z', 'other'],
      ['open', '2026-01-05T11:00:00.000Z', null],
      ['click', '2026-01-05T10:21:00.000Z', 'hero'],
      ['click', '2026-01-05T10:20:00.000Z', 'hero'],
      ['open', '2026-01-05T10:10:00.000Z', null],
    ])
    const one = await s.api('GET', '/v1/recipients/r1/timeline?limit=1')
    expect(one.body.events[0]).toMatchObject({ campaignId: 'hand', class: 'human', link: { id: L3, url: 'https://b.example/', label: 'other', position: 2 } })
    const r4 = await s.api('GET', '/v1/recipients/r4/timeline')
    expect(r4.body.events.map((e: { class: string; reasons: string[] }) => [e.class, e.reasons])).toEqual([
      ['scanner_click', ['scanner_ip', 'head_request']],
      ['machine_open', ['apple_mpp']],
    ])
    expect((await s.api('GET', '/v1/recipients/r4/timeline?traffic=human')).body).toEqual({ recipientId: 'r4', traffic: 'human', events: [], sequences: [], next: null })
    const bad = await s.api('GET', '/v1/recipients/r1/timeline?cursor=nonsense')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/^query\.cursor/)
  })
})

describe('GET /v1/campaigns/:id/audience', () => {
  const ids = async (q: string) => {
    const res = await fetch(`${s.url}/v1/campaigns/hand/audience?${q}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-ndjson')
    const text = await res.text()
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l).recipientId)
  }

  it('starts from the sends and filters', async () => {
    expect(await ids('')).toEqual(['r1', 'r2', 'r3', 'r4', 'r5'])
    expect(await ids('opened=true')).toEqual(['r1', 'r2'])
    expect(await ids('opened=false')).toEqual(['r3', 'r4', 'r5'])
    expect(await ids('opened=true&traffic=all')).toEqual(['r1', 'r2', 'r4'])
    expect(await ids(`clicked=${L1}`)).toEqual(['r1'])
    expect(await ids(`clicked=${L1}&traffic=machine`)).toEqual(['r4'])
    expect(await ids(`notClicked=${L1}`)).toEqual(['r2', 'r3', 'r4', 'r5'])
    expect(await ids(`clicked=${L1}&clicked=${L2}`)).toEqual([])
    expect(await ids(`clicked=${L1},${L3}`)).toEqual(['r1'])
    // Named as a person names them: by label, by position.
    expect(await ids('clicked=hero')).toEqual(['r1'])
    expect(await ids('clicked=%232&notClicked=footer')).toEqual(['r1'])
    expect(await ids(`opened=true&notClicked=${L1}`)).toEqual(['r2'])
    expect(await ids('segment=fr&opened=false')).toEqual(['r5'])
    expect(await ids('variant=B')).toEqual(['r3', 'r4', 'r5'])
    expect(await ids('attribute=country:DE')).toEqual(['r3', 'r5'])
  })

  it('NDJSON rows carry what the recipient did', async () => {
    const res = await fetch(`${s.url}/v1/campaigns/hand/audience?variant=A`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    const [r1] = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l))
    expect(r1).toEqual({
      recipientId: 'r1',
      variant: 'A',
      segments: ['vip', 'fr'],
      sentAt: '2026-01-05T10:00:00.000Z',
      opened: true,
      clicked: true,
      opens: 2,
      clicks: 3,
      firstOpenAt: '2026-01-05T10:10:00.000Z',
      firstClickAt: '2026-01-05T10:20:00.000Z',
      clickedLinks: [L1, L3].sort(),
    })
  })

  it('CSV with Accept: text/csv, escaped per RFC 4180', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'csv', name: 'csv' })
    await insertSends(s, [{ campaign_id: 'csv', recipient_id: 'a,"b"\nc', sent_at: day + '10:00:00.000', segments: ['x'] }])
    const res = await fetch(`${s.url}/v1/campaigns/csv/audience`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/csv' } })
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(await res.text()).toBe(
      'recipient_id,variant,segments,sent_at,opened,clicked,opens,clicks,first_open_at,first_click_at,clicked_links\r\n' +
        '"a,""b""\nc",,x,2026-01-05T10:00:00.000Z,false,false,0,0,,,\r\n',
    )
  })

  it('CSV cells a spreadsheet would run as formulas get a leading quote (OWASP)', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'csvf', name: 'csv formulas' })
    await insertSends(s, [
      { campaign_id: 'csvf', recipient_id: '=HYPERLINK("http://evil.example","x")', sent_at: day + '10:00:00.000', variant: '+1', segments: ['-2', 'ok'] },
      { campaign_id: 'csvf', recipient_id: '@SUM(A1)', sent_at: day + '10:00:00.000', variant: '\tTAB', segments: ['\rCR'] },
      { campaign_id: 'csvf', recipient_id: 'plain=1', sent_at: day + '10:00:00.000', variant: 'a-b' },
    ])
    const res = await fetch(`${s.url}/v1/campaigns/csvf/audience`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/csv' } })
    const lines = (await res.text()).split('\r\n')
    expect(lines.slice(1, 4)).toEqual([
      `"'=HYPERLINK(""http://evil.example"",""x"")",'+1,'-2|ok,2026-01-05T10:00:00.000Z,false,false,0,0,,,`,
      `'@SUM(A1),'\tTAB,"'\rCR",2026-01-05T10:00:00.000Z,false,false,0,0,,,`,
      // Only the first character matters: these are left alone.
      'plain=1,a-b,,2026-01-05T10:00:00.000Z,false,false,0,0,,,',
    ])
    expect(csvField('-')).toBe("'-")
    expect(csvField('')).toBe('')
  })

  it('names unknown links and bad filters; 404 for an unknown campaign', async () => {
    for (const [q, name] of [
      ['clicked=nolink', 'query.clicked'],
      [`notClicked=${L1}&notClicked=zzz`, 'query.notClicked'],
      ['opened=maybe', 'query.opened'],
      ['attribute=country', 'query.attribute'],
    ]) {
      const r = await s.api('GET', `/v1/campaigns/hand/audience?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body.error.message.startsWith(name!), r.body.error.message).toBe(true)
    }
    expect((await s.api('GET', '/v1/campaigns/nope/audience')).status).toBe(404)
  })
})

describe('OpenAPI document', () => {
  it('documents every metrics endpoint with an example', async () => {
    const doc = (await s.api('GET', '/openapi.json')).body
    for (const p of [
      '/v1/campaigns/{id}/stats',
      '/v1/campaigns/{id}/links/stats',
      '/v1/campaigns/{id}/segments',
      '/v1/compare',
      '/v1/campaigns/{id}/compare',
      '/v1/campaigns/{id}/projection',
      '/v1/campaigns/{id}/timeseries',
      '/v1/campaigns/{id}/timing',
      '/v1/recipients/{recipientId}/timeline',
      '/v1/campaigns/{id}/audience',
    ]) {
      expect(doc.paths[p]?.get, p).toBeDefined()
      expect(JSON.stringify(doc.paths[p].get.responses['200']) + JSON.stringify(doc.components.schemas), p).toContain('example')
    }
    expect(doc.components.schemas.CampaignStats.example).toBeDefined()
  })
})
