import { describe, expect, it } from 'vitest'
import { type BurstEvent, type BurstUpdate, detectBursts } from '../../src/tracking/classify.js'

let seq = 0
function click(over: Partial<BurstEvent>): BurstEvent {
  return { eventId: `e${++seq}`, type: 'click', campaignId: 'c1', linkId: 'l1', recipientId: 'r1', ts: 1_000_000, ip: '198.51.100.0', class: 'human', reasons: [], ...over }
}

function apply(events: BurstEvent[], updates: BurstUpdate[]): BurstEvent[] {
  const byId = new Map(updates.map((u) => [u.eventId, u]))
  return events.map((e) => {
    const u = byId.get(e.eventId)
    return u ? { ...e, class: u.class, reasons: u.reasons } : e
  })
}

describe('detectBursts', () => {
  it('marks one recipient clicking three distinct links within 2 s', () => {
    const ev = [click({ linkId: 'a', ts: 0 }), click({ linkId: 'b', ts: 700 }), click({ linkId: 'c', ts: 1900 })]
    const u = detectBursts(ev)
    expect(u).toEqual(ev.map((e) => ({ eventId: e.eventId, class: 'scanner_click', reasons: ['burst'] })))
  })

  it('does not mark two links', () => {
    expect(detectBursts([click({ linkId: 'a', ts: 0 }), click({ linkId: 'b', ts: 100 }), click({ linkId: 'a', ts: 200 })])).toEqual([])
  })

  it('does not mark three links spread over 10 s', () => {
    expect(detectBursts([click({ linkId: 'a', ts: 0 }), click({ linkId: 'b', ts: 5000 }), click({ linkId: 'c', ts: 10_000 })])).toEqual([])
  })

  it('keeps recipients and campaigns apart', () => {
    const ev = [click({ linkId: 'a', ts: 0 }), click({ linkId: 'b', ts: 10, recipientId: 'r2' }), click({ linkId: 'c', ts: 20, campaignId: 'c2' })]
    expect(detectBursts(ev)).toEqual([])
  })

  it('marks every link of a two-link campaign when linksPerCampaign says so', () => {
    const ev = [click({ linkId: 'a', ts: 0 }), click({ linkId: 'b', ts: 300 })]
    expect(detectBursts(ev)).toEqual([])
    expect(detectBursts(ev, { linksPerCampaign: { c1: 2 } }).map((u) => u.reasons)).toEqual([['burst'], ['burst']])
    expect(detectBursts(ev, { linksPerCampaign: new Map([['c1', 2]]) })).toHaveLength(2)
    expect(detectBursts([click({ linkId: 'a', ts: 0 }), click({ linkId: 'a', ts: 10 })], { linksPerCampaign: { c1: 1 } })).toEqual([])
  })

  it('only marks the clicks inside the burst window', () => {
    const early = click({ linkId: 'x', ts: 0 })
    const burst = [click({ linkId: 'a', ts: 10_000 }), click({ linkId: 'b', ts: 10_500 }), click({ linkId: 'c', ts: 11_000 })]
    const u = detectBursts([early, ...burst])
    expect(u.map((x) => x.eventId)).toEqual(burst.map((e) => e.eventId))
  })

  it('marks one link clicked by five recipients from one IP within 5 s as shared_ip_burst', () => {
    const ev = ['r1', 'r2', 'r3', 'r4', 'r5'].map((r, i) => click({ recipientId: r, ts: i * 1000, ip: '203.0.113.0' }))
    const u = detectBursts(ev)
    expect(u).toHaveLength(5)
    expect(u.every((x) => x.class === 'scanner_click' && x.reasons.join() === 'shared_ip_burst')).toBe(true)
    expect(detectBursts(ev.slice(0, 4))).toEqual([])
    expect(detectBursts(ev, { sharedIpMinRecipients: 6 })).toEqual([])
    const spread = ['r1', 'r2', 'r3', 'r4', 'r5'].map((r, i) => click({ recipientId: r, ts: i * 2000, ip: '203.0.113.0' }))
    expect(detectBursts(spread)).toEqual([])
    const ips = ['r1', 'r2', 'r3', 'r4', 'r5'].map((r, i) => click({ recipientId: r, ts: i, ip: `203.0.113.${i}` }))
    expect(detectBursts(ips)).toEqual([])
  })

  it('marks a recipient’s clicks within ±10 s of a honeypot click', () => {
    const before = click({ linkId: 'a', ts: 1000 })
    const trap = click({ linkId: 'trap', ts: 9000 })
    const after = click({ linkId: 'b', ts: 18_500 })
    const late = click({ linkId: 'c', ts: 30_000 })
    const other = click({ linkId: 'a', ts: 9000, recipientId: 'r2' })
    const u = detectBursts([before, trap, after, late, other], { honeypotLinkIds: ['trap'] })
    expect(u.map((x) => x.eventId)).toEqual([before.eventId, trap.eventId, after.eventId])
    expect(u.every((x) => x.reasons.join() === 'honeypot')).toBe(true)
  })

  it('keeps existing reasons, keeps crawlers as crawlers, and ignores opens', () => {
    const ev = [
      click({ linkId: 'a', ts: 0, class: 'scanner_click', reasons: ['scanner_ip'] }),
      click({ linkId: 'b', ts: 100, class: 'crawler', reasons: ['crawler_ua'] }),
      click({ linkId: 'c', ts: 200 }),
      click({ linkId: '', type: 'open', ts: 150 }),
    ]
    expect(detectBursts(ev).map((u) => [u.class, u.reasons])).toEqual([
      ['scanner_click', ['scanner_ip', 'burst']],
      ['crawler', ['crawler_ua', 'burst']],
      ['scanner_click', ['burst']],
    ])
  })

  it('is idempotent', () => {
    const ev = [
      click({ linkId: 'a', ts: 0 }), click({ linkId: 'b', ts: 10 }), click({ linkId: 'c', ts: 20 }),
      ...['r2', 'r3', 'r4', 'r5', 'r6'].map((r, i) => click({ recipientId: r, ts: 40 + i, ip: '203.0.113.0', linkId: 'z' })),
      click({ recipientId: 'r9', linkId: 'trap', ts: 0 }),
    ]
    const opts = { honeypotLinkIds: ['trap'] }
    const first = detectBursts(ev, opts)
    expect(first.length).toBe(9)
    const once = apply(ev, first)
    expect(detectBursts(once, opts)).toEqual([])
    expect(detectBursts(apply(once, detectBursts(once, opts)), opts)).toEqual([])
  })
})
