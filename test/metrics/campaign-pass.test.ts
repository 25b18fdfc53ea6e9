import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaignStats } from '../../src/metrics/campaign-stats.js'
import { segmentStats } from '../../src/metrics/segments.js'
import type { EventWindow } from '../../src/metrics/sql.js'
import { timingAndGroups } from '../../src/metrics/timing.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { insertEvents, insertSends } from './fixture.js'

/*
 * The campaign page's one pass (timingAndGroups with stats: every event FULL-joined to the sends)
 * against the functions of the stats, timing and segments endpoints, on a fixture with what that
 * join must not miscount: recipients with events and no send, invalid tokens, machine traffic,
 * a recipient sent twice, events outside a window.
 *
 * Campaign "pass", sent 2026-01-05 10:00 UTC to s1..s4 (s4 sent again at 11:00, to variant B):
 *   s1 A [vip]:   opens 10:05, 10:40; click 10:06
 *   s2 A []:      machine open 10:00:02 (apple_mpp); open 12:00
 *   s3 B [vip]:   unsubscribes 13:00
 *   s4 A→B [x]:   click 11:30 (after its second send), no open
 *   n1 no send:   opens 10:10, click 10:11, unsubscribes 10:12
 *   n2 no send:   machine click 10:20 (scanner_ip), nothing human
 *   invalid:      an open and a click at 14:00
 */
let s: TestServer
const c = 'pass'
const at = (hm: string) => `2026-01-05 ${hm}:00.000`

beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { id: c, name: 'One pass' })
  await insertSends(s, [
    { campaign_id: c, recipient_id: 's1', sent_at: at('10:00'), variant: 'A', segments: ['vip'] },
    { campaign_id: c, recipient_id: 's2', sent_at: at('10:00'), variant: 'A' },
    { campaign_id: c, recipient_id: 's3', sent_at: at('10:00'), variant: 'B', segments: ['vip'] },
    { campaign_id: c, recipient_id: 's4', sent_at: at('10:00'), variant: 'A', segments: ['x'] },
  ])
  await insertSends(s, [{ campaign_id: c, recipient_id: 's4', sent_at: at('11:00'), variant: 'B', segments: ['x'] }])
  await insertEvents(s, [
    { type: 'open', ts: at('10:05'), campaign_id: c, recipient_id: 's1' },
    { type: 'open', ts: at('10:40'), campaign_id: c, recipient_id: 's1' },
    { type: 'click', ts: at('10:06'), campaign_id: c, recipient_id: 's1', link_id: 'L1' },
    { type: 'open', ts: '2026-01-05 10:00:02.000', campaign_id: c, recipient_id: 's2', class: 'machine_open', reasons: ['apple_mpp'] },
    { type: 'open', ts: at('12:00'), campaign_id: c, recipient_id: 's2' },
    { type: 'unsubscribe', ts: at('13:00'), campaign_id: c, recipient_id: 's3' },
    { type: 'click', ts: at('11:30'), campaign_id: c, recipient_id: 's4', link_id: 'L1' },
    { type: 'open', ts: at('10:10'), campaign_id: c, recipient_id: 'n1' },
    { type: 'click', ts: at('10:11'), campaign_id: c, recipient_id: 'n1', link_id: 'L1' },
    { type: 'unsubscribe', ts: at('10:12'), campaign_id: c, recipient_id: 'n1' },
    { type: 'click', ts: at('10:20'), campaign_id: c, recipient_id: 'n2', link_id: 'L1', class: 'scanner_click', reasons: ['scanner_ip'] },
    { type: 'open', ts: at('14:00'), campaign_id: c, recipient_id: '' },
    { type: 'click', ts: at('14:00'), campaign_id: c, recipient_id: '', link_id: 'L1' },
  ])
})
afterAll(async () => {
  await s?.stop()
})

describe('the campaign page pass (stats, bars and timing from one join)', () => {
  it('counts recipients without a send in the uniques and totals, never in sent, the bars or the delays', async () => {
    const p = await timingAndGroups(s.deps.events, c, null, 'UTC', { traffic: 'human' }, [{ kind: 'segment' }, { kind: 'variant' }], { stats: true })
    const st = p.stats!
    expect(st.sent).toBe(4)
    // The invalid-token open and click: under invalidToken, not in the totals.
    expect(st.opens).toEqual({ total: 4, unique: 3, rate: 3 / 4 })
    expect(st.clicks).toMatchObject({ total: 3, unique: 3 })
    expect(st.unsubscribes).toMatchObject({ total: 2, unique: 2 })
    expect(st.rates.clickToOpen).toMatchObject({ numerator: 3, denominator: 4 })
    expect(st.invalidToken).toEqual({ opens: 1, clicks: 1 })
    expect(st.machine).toEqual({ opens: { total: 1, byReason: { apple_mpp: 1 } }, clicks: { total: 1, byReason: { scanner_ip: 1 } } })
    expect(st.firstEventAt).toBe('2026-01-05T10:05:00.000Z')
    expect(st.lastEventAt).toBe('2026-01-05T14:00:00.000Z')
    // Delays only for recipients with a send: s1 and s2 opened (5 min, 2 h), s1 and s4 clicked (6 min, 30 min after the later send).
    expect(st.timeToFirstOpen.count).toBe(2)
    expect(st.timeToFirstOpen.medianSeconds).toBeCloseTo(3750, 6)
    expect(st.timeToFirstOpen.p90Seconds).toBeCloseTo(300 + 0.9 * (7200 - 300), 6)
    expect(st.timeToFirstClick.count).toBe(2)
    const [segments, variants] = p.groups
    expect(segments).toEqual([
      { key: 'vip', sent: 2, uniqueOpeners: 1, uniqueClickers: 1, engaged: 1 },
      { key: 'x', sent: 1, uniqueOpeners: 0, uniqueClickers: 1, engaged: 1 },
    ])
    expect(variants).toEqual([
      { key: 'A', sent: 2, uniqueOpeners: 2, uniqueClickers: 1, engaged: 2 },
      { key: 'B', sent: 2, uniqueOpeners: 0, uniqueClickers: 1, engaged: 1 },
    ])
    expect(p.timing).toHaveLength(1)
    expect(p.timing[0]!.firstOpen.count).toBe(2)
    expect(p.timing[0]!.firstClick.count).toBe(2)
  })

  it('equals the stats, timing and segments endpoints’ functions for every traffic, window and timing dimension', async () => {
    const windows: Array<Omit<EventWindow, 'traffic'>> = [{}, { from: Date.parse('2026-01-05T10:06:00Z'), to: Date.parse('2026-01-05T12:00:00Z') }]
    for (const traffic of ['human', 'machine', 'all'] as const) {
      for (const win of windows) {
        const w = { traffic, ...win }
        for (const by of [null, 'variant', 'segment'] as const) {
          const dims = [{ kind: 'segment' as const }, { kind: 'variant' as const }]
          const p = await timingAndGroups(s.deps.events, c, by, 'Europe/Paris', w, dims, { stats: true })
          const apart = await timingAndGroups(s.deps.events, c, by, 'Europe/Paris', w, dims)
          expect(p.timing).toEqual(apart.timing)
          expect(p.groups).toEqual(apart.groups)
          expect(p.stats).toEqual(await campaignStats(s.deps.events, c, w))
          expect(p.groups[0]).toEqual((await segmentStats(s.deps.events, c, { kind: 'segment' }, w)).map(({ key, sent, uniqueOpeners, uniqueClickers, engaged }) => ({ key, sent, uniqueOpeners, uniqueClickers, engaged })))
        }
      }
    }
  })
})
