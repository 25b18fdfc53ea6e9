import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { upsertLink } from '../../src/services/campaigns.js'
import { chDateTime } from '../../src/store/clickhouse.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'
import { insertEvents, insertSends, type EventRow, type SendRow } from './fixture.js'

/*
 * A larger random fixture (3000 recipients, some sent twice, ~9000 events of every class,
 * invalid tokens) inserted directly, every figure recomputed in plain JS from the same rows.
 */
let s: TestServer
const C = 'rnd'
const T0 = Date.UTC(2026, 0, 5, 9)
let links: string[] = []
const sends = new Map<string, SendRow & { at: number }>()
const events: Array<EventRow & { at: number; event_id: string }> = []

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { id: C, name: 'random' })
  const urls = ['https://x.example/1', 'https://x.example/2', 'https://x.example/1', 'https://y.example/']
  for (const [i, url] of urls.entries()) links.push((await upsertLink(s.deps, C, { url, label: `l${i}`, position: i })).link.id)
  const rnd = prng(42)
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!
  const first: SendRow[] = []
  const again: SendRow[] = []
  for (let i = 0; i < 3000; i++) {
    const row = {
      campaign_id: C,
      recipient_id: `u${i}`,
      at: T0,
      sent_at: chDateTime(T0),
      variant: pick(['A', 'B', 'C', '']),
      segments: ['s1', 's2', 's3'].filter(() => rnd() < 0.4),
      attributes: (rnd() < 0.8 ? { country: pick(['FR', 'DE', 'IT']) } : {}) as Record<string, string>,
    }
    first.push(row)
    sends.set(row.recipient_id, row)
    if (rnd() < 0.05) {
      // Sent again an hour later, to another variant: the later send replaces the first.
      const later = { ...row, at: T0 + 3_600_000, sent_at: chDateTime(T0 + 3_600_000), variant: pick(['A', 'B']) }
      again.push(later)
      sends.set(row.recipient_id, later)
    }
  }
  await insertSends(s, first)
  await insertSends(s, again)
  for (let i = 0; i < 9000; i++) {
    const type = pick(['open', 'open', 'open', 'click', 'click', 'unsubscribe'] as const)
    const recipient = rnd() < 0.01 ? '' : `u${Math.floor(rnd() ** 2 * 2000)}`
    const at = T0 + 3_600_000 + Math.floor(rnd() ** 3 * 3 * 86_400_000)
    const cls = type === 'open' ? (rnd() < 0.15 ? 'machine_open' : 'human') : type === 'click' ? (rnd() < 0.1 ? 'scanner_click' : 'human') : 'human'
    const e = {
      type,
      at,
      ts: chDateTime(at),
      campaign_id: C,
      recipient_id: recipient,
      link_id: type === 'click' ? pick(links) : '',
      class: cls,
      reasons: cls === 'machine_open' ? ['apple_mpp'] : cls === 'scanner_click' ? ['scanner_ip'] : [],
      event_id: `e${String(i).padStart(5, '0')}`,
    }
    events.push(e)
  }
  await insertEvents(s, events)
}, 60_000)
afterAll(async () => {
  await s.stop()
})

// A forged or damaged token (recipient '') is nobody's: out of the human figures (kept under invalidToken).
const human = () => events.filter((e) => e.class === 'human' && e.recipient_id !== '')
const uniq = (xs: Array<{ recipient_id: string }>) => new Set(xs.map((x) => x.recipient_id).filter(Boolean))
const firstAt = (evs: typeof events, type: string) => {
  const m = new Map<string, number>()
  for (const e of evs) if (e.type === type && e.recipient_id) m.set(e.recipient_id, Math.min(m.get(e.recipient_id) ?? Infinity, e.at))
  return m
}
const quantile = (xs: number[], q: number) => {
  const a = [...xs].sort((x, y) => x - y)
  const h = (a.length - 1) * q
  const lo = Math.floor(h)
  return a[lo]! + (h - lo) * ((a[lo + 1] ?? a[lo]!) - a[lo]!)
}

describe('random fixture, recomputed in JS', () => {
  it('stats', async () => {
    const h = human()
    const openers = uniq(h.filter((e) => e.type === 'open'))
    const clickers = uniq(h.filter((e) => e.type === 'click'))
    const engaged = new Set([...openers, ...clickers])
    const r = await s.api('GET', `/v1/campaigns/${C}/stats`)
    expect(r.body).toMatchObject({
      sent: 3000,
      opens: { total: h.filter((e) => e.type === 'open').length, unique: openers.size, rate: openers.size / 3000 },
      clicks: { total: h.filter((e) => e.type === 'click').length, unique: clickers.size, rate: clickers.size / 3000, clickToOpenRate: clickers.size / engaged.size },
      unsubscribes: { total: h.filter((e) => e.type === 'unsubscribe').length, unique: uniq(h.filter((e) => e.type === 'unsubscribe')).size },
      machine: {
        opens: { total: events.filter((e) => e.class === 'machine_open').length, byReason: { apple_mpp: events.filter((e) => e.class === 'machine_open').length } },
        clicks: { total: events.filter((e) => e.class === 'scanner_click').length },
      },
    })
    const delays = [...firstAt(h, 'open')].map(([r, at]) => Math.max(0, at - sends.get(r)!.at) / 1000)
    expect(r.body.timeToFirstOpen.count).toBe(delays.length)
    expect(r.body.timeToFirstOpen.medianSeconds).toBeCloseTo(quantile(delays, 0.5), 3)
    expect(r.body.timeToFirstOpen.p90Seconds).toBeCloseTo(quantile(delays, 0.9), 3)
  })

  it('links and URLs', async () => {
    const h = human()
    const openers = uniq(h.filter((e) => e.type === 'open'))
    const r = await s.api('GET', `/v1/campaigns/${C}/links/stats`)
    for (const l of r.body.links) {
      const clicks = h.filter((e) => e.type === 'click' && e.link_id === l.linkId)
      const uc = uniq(clicks)
      expect(l).toMatchObject({ clicks: clicks.length, uniqueClickers: uc.size, openersNotClicked: [...openers].filter((o) => !uc.has(o)).length })
    }
    const u1 = r.body.byUrl.find((u: { url: string }) => u.url === 'https://x.example/1')
    const clicks = h.filter((e) => e.type === 'click' && (e.link_id === links[0] || e.link_id === links[2]))
    expect(u1).toMatchObject({ clicks: clicks.length, uniqueClickers: uniq(clicks).size })
  })

  it('segments, variants and attributes from the latest send of each recipient', async () => {
    const h = human()
    const openers = uniq(h.filter((e) => e.type === 'open'))
    const clickers = uniq(h.filter((e) => e.type === 'click'))
    const expected = (keyOf: (r: SendRow) => string[]) => {
      const m = new Map<string, { sent: number; uniqueOpeners: number; uniqueClickers: number; engaged: number }>()
      for (const r of sends.values()) {
        for (const k of keyOf(r)) {
          const g = m.get(k) ?? { sent: 0, uniqueOpeners: 0, uniqueClickers: 0, engaged: 0 }
          g.sent++
          const o = openers.has(r.recipient_id)
          const c = clickers.has(r.recipient_id)
          if (o) g.uniqueOpeners++
          if (c) g.uniqueClickers++
          if (o || c) g.engaged++
          m.set(k, g)
        }
      }
      return [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, g]) => ({ key, ...g }))
    }
    const got = async (by: string) =>
      (await s.api('GET', `/v1/campaigns/${C}/segments?by=${by}`)).body.rows.map(({ key, sent, uniqueOpeners, uniqueClickers, engaged }: Record<string, unknown>) => ({ key, sent, uniqueOpeners, uniqueClickers, engaged }))
    expect(await got('segment')).toEqual(expected((r) => r.segments ?? []))
    expect(await got('variant')).toEqual(expected((r) => [r.variant ?? '']))
    expect(await got('attribute:country')).toEqual(expected((r) => [r.attributes?.country ?? '']))
  })

  it('timeseries totals and timing counts', async () => {
    const h = human()
    const ts = await s.api('GET', `/v1/campaigns/${C}/timeseries?metric=clicks&interval=hour&tz=America/New_York`)
    const buckets = ts.body.buckets as Array<{ start: string; value: number }>
    expect(buckets.reduce((a, b) => a + b.value, 0)).toBe(h.filter((e) => e.type === 'click').length)
    for (let i = 1; i < buckets.length; i++) expect(Date.parse(buckets[i]!.start) - Date.parse(buckets[i - 1]!.start)).toBe(3_600_000)
    const firstOpens = firstAt(h, 'open')
    const t = await s.api('GET', `/v1/campaigns/${C}/timing?tz=America/New_York`)
    const g = t.body.groups[0]
    expect(g.firstOpen.count).toBe(firstOpens.size)
    expect(g.firstOpen.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(firstOpens.size)
    const hours = new Array(24).fill(0)
    const week = Array.from({ length: 7 }, () => new Array(24).fill(0))
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short', hour: 'numeric', hourCycle: 'h23' })
    for (const at of firstOpens.values()) {
      const parts = Object.fromEntries(local.formatToParts(at).map((p) => [p.type, p.value]))
      hours[Number(parts.hour)]++
      week[['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!)]![Number(parts.hour)]++
    }
    expect(g.firstOpen.byHour).toEqual(hours)
    expect(g.firstOpen.byWeekdayHour).toEqual(week)
  })

  it('audience', async () => {
    const h = human()
    const openers = uniq(h.filter((e) => e.type === 'open'))
    const clickedL1 = uniq(h.filter((e) => e.type === 'click' && e.link_id === links[1]))
    const res = await fetch(`${s.url}/v1/campaigns/${C}/audience?opened=false&notClicked=${links[1]}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    const got = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l).recipientId)
    const want = [...sends.keys()].filter((r) => !openers.has(r) && !clickedL1.has(r)).sort()
    expect(got).toEqual(want)
  })

  it('timeline of one recipient, all pages', async () => {
    const mine = events.filter((e) => e.recipient_id === 'u3').sort((a, b) => b.at - a.at || (a.event_id < b.event_id ? 1 : -1))
    const ids: string[] = []
    let next: string | null = null
    do {
      const r: { body: { events: Array<{ eventId: string }>; next: string | null } } = await s.api('GET', `/v1/recipients/u3/timeline?limit=7${next ? `&cursor=${next}` : ''}`)
      ids.push(...r.body.events.map((e) => e.eventId))
      next = r.body.next
    } while (next)
    expect(mine.length).toBeGreaterThan(10)
    expect(ids).toEqual(mine.map((e) => e.event_id))
  })
})
