import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyStoredUpdates } from '../../src/classification/apply.js'
import { ADMIN_KEY, BROWSER_UA, readerClick, startTestServer, type TestServer } from '../support/server.js'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T08:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()
/** Apple Mail Privacy Protection fetches the pixel with a bare user agent: a machine open. */
const MPP_UA = 'Mozilla/5.0'

let s: TestServer
let now = T0
const at = (day: number) => T0 + day * DAY

beforeAll(async () => {
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
})
afterAll(async () => {
  await s.stop()
})

/** Records a send of `campaign` to each recipient on `day` and returns their tracked URLs. */
async function send(campaign: string, ids: string[], day: number): Promise<Map<string, { pixelUrl: string; links: Array<{ url: string }> }>> {
  now = at(day)
  const r = await s.api('POST', `/v1/campaigns/${campaign}/sends`, { recipients: ids.map((id) => ({ id })), sentAt: iso(at(day)) })
  expect(r.status).toBe(201)
  return new Map(r.body.recipients.map((x: { id: string }) => [x.id, x]))
}

async function open(pixelUrl: string, day: number, ua: string) {
  now = at(day)
  const r = await fetch(pixelUrl, { headers: { 'user-agent': ua } })
  expect(r.status).toBe(200)
  await r.arrayBuffer()
}

/** An NDJSON answer's rows (the test server's api() would parse a one-line answer as JSON). */
async function ndjson(path: string): Promise<any[]> {
  const r = await fetch(s.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  expect(r.status).toBe(200)
  return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l))
}

describe('engagement status across campaigns (human opens and clicks only)', () => {
  beforeAll(async () => {
    for (const id of ['old', 'e0', 'e1', 'e2', 'e3']) await s.api('POST', '/v1/campaigns', { id, name: id, settings: { category: 'newsletter' } })
    // old: engaged 100 days before, one send since: dormant.
    const o = await send('old', ['old'], -100)
    await open(o.get('old')!.pixelUrl, -99, BROWSER_UA)
    for (const [i, day] of [0, 10, 20, 30].entries()) {
      const ids = ['mpp', 'human', ...(i === 0 ? ['lapser'] : []), ...(day === 30 ? ['newbie', 'old'] : [])]
      const urls = await send(`e${i}`, ids, day)
      // Apple MPP fetches every pixel: machine opens, never engagement.
      await open(urls.get('mpp')!.pixelUrl, day, MPP_UA)
      if (i === 0) await open(urls.get('lapser')!.pixelUrl, 2, BROWSER_UA)
      if (day === 30) await open(urls.get('human')!.pixelUrl, 33, BROWSER_UA)
    }
    await s.flush()
  })

  it('an Apple MPP reader who never clicks is inactive, not active; the others as defined', async () => {
    const r = await s.api('GET', `/v1/engagement?at=${iso(at(45))}`)
    expect(r.status).toBe(200)
    expect(r.body.recipients).toBe(5)
    expect(r.body.counts).toEqual({ active: 1, lapsing: 1, inactive: 1, never_engaged: 1, dormant: 1 })
    expect(r.body.thresholds).toEqual({ activeDays: 30, inactiveDays: 90, minSends: 3 })

    const mpp = await s.api('GET', `/v1/recipients/mpp?at=${iso(at(45))}`)
    expect(mpp.status).toBe(200)
    expect(mpp.body).toMatchObject({ status: 'inactive', lastOpenAt: null, lastClickAt: null, sends: 4, lastSentAt: iso(at(30)) })
    expect(mpp.body.sendsLast30Days.map((x: { campaignId: string }) => x.campaignId)).toEqual(['e2', 'e3'])
    const human = await s.api('GET', `/v1/recipients/human?at=${iso(at(45))}`)
    expect(human.body).toMatchObject({ status: 'active', lastOpenAt: iso(at(33)), lastClickAt: null })
    expect((await s.api('GET', `/v1/recipients/lapser?at=${iso(at(45))}`)).body.status).toBe('lapsing')
    expect((await s.api('GET', `/v1/recipients/newbie?at=${iso(at(45))}`)).body.status).toBe('never_engaged')
    expect((await s.api('GET', `/v1/recipients/old?at=${iso(at(45))}`)).body.status).toBe('dormant')
    expect((await s.api('GET', '/v1/recipients/nobody')).status).toBe(404)

    // Thresholds per request: with 5 sends needed, the MPP reader (4) is not called inactive yet.
    const strict = await s.api('GET', `/v1/engagement?at=${iso(at(45))}&minSends=5`)
    expect(strict.body.counts).toMatchObject({ inactive: 0, never_engaged: 2 })
  })

  it('weekly: the counts as they were at each point', async () => {
    const r = await s.api('GET', `/v1/engagement?at=${iso(at(45))}&from=${iso(at(31))}`)
    expect(r.body.weekly.map((w: { at: string }) => w.at)).toEqual([iso(at(31)), iso(at(38)), iso(at(45))])
    // Day 31: lapser's open (day 2) is recent, human has not opened yet (day 33).
    expect(r.body.weekly[0].counts).toEqual({ active: 1, lapsing: 0, inactive: 2, never_engaged: 1, dormant: 1 })
    expect(r.body.weekly[2].counts).toEqual(r.body.counts)
  })

  it('the wake-up audience is exactly the recipients the counts count, as NDJSON and CSV', async () => {
    const counts = (await s.api('GET', `/v1/engagement?at=${iso(at(45))}`)).body.counts
    for (const status of ['active', 'lapsing', 'inactive', 'never_engaged', 'dormant']) {
      const rows = await ndjson(`/v1/audience?status=${status}&at=${iso(at(45))}`)
      expect(rows.length, status).toBe(counts[status])
      for (const row of rows) expect(row.status).toBe(status)
    }
    expect(await ndjson(`/v1/audience?at=${iso(at(45))}`)).toEqual([{
      recipientId: 'mpp',
      status: 'inactive',
      lastOpenAt: null,
      lastClickAt: null,
      sends: 4,
      recentSends: 4,
      lastSentAt: iso(at(30)),
      lastPurchaseAt: null,
    }])
    const csv = await s.api('GET', `/v1/audience?status=active,lapsing&at=${iso(at(45))}`, undefined, { accept: 'text/csv' })
    expect(csv.headers.get('content-type')).toContain('text/csv')
    expect(csv.body).toBe(
      'recipient_id,status,last_open_at,last_click_at,sends,recent_sends,last_sent_at,last_purchase_at\r\n' +
        `human,active,${iso(at(33))},,4,4,${iso(at(30))},\r\n` +
        `lapser,lapsing,${iso(at(2))},,1,1,${iso(at(0))},\r\n`,
    )
    expect(await ndjson(`/v1/audience?status=inactive&minSends=5&at=${iso(at(45))}`)).toEqual([])
    expect((await s.api('GET', '/v1/audience?status=sleepy')).status).toBe(400)
  })

  it('lastPurchaseBefore keeps the customers whose last purchase is that old', async () => {
    now = at(40)
    await s.api('POST', '/v1/conversions', { orderId: 'o-1', recipientId: 'human', amount: '10.00', currency: 'EUR', at: iso(at(1)) })
    await s.api('POST', '/v1/conversions', { orderId: 'o-2', recipientId: 'lapser', amount: '10.00', currency: 'EUR', at: iso(at(40)) })
    await s.flush()
    const rows = await ndjson(`/v1/audience?status=active,lapsing&lastPurchaseBefore=P30D&at=${iso(at(45))}`)
    expect(rows.map((x) => [x.recipientId, x.lastPurchaseAt])).toEqual([['human', iso(at(1))]])
  })
})

describe('status and send history follow reclassification and erasure', () => {
  // Guards any per-recipient rollup added for speed: a materialized view would miss the ALTER TABLE … UPDATE
  // of reclassification and the ALTER TABLE … DELETE of erasure.
  it('an open reclassified as a machine one stops counting; an erased recipient is gone from the status and the cap history', async () => {
    const D = 300 // clear of the histories above
    await s.api('POST', '/v1/campaigns', { id: 'rc', name: 'rc', settings: { category: 'newsletter' } })
    const urls = await send('rc', ['rc1', 'rc2'], D)
    await open(urls.get('rc1')!.pixelUrl, D + 1, BROWSER_UA)
    await s.flush()
    const q = `at=${iso(at(D + 2))}`
    expect((await s.api('GET', `/v1/recipients/rc1?${q}`)).body).toMatchObject({ status: 'active', lastOpenAt: iso(at(D + 1)) })
    const before = (await s.api('GET', `/v1/engagement?${q}`)).body.counts

    // The second pass (or an administrator) decides the open was a machine's: an ALTER TABLE … UPDATE.
    const rs = await s.deps.events.client.query({ query: `SELECT event_id FROM ${s.deps.events.db}.events WHERE recipient_id = 'rc1' AND type = 'open'`, format: 'JSONEachRow' })
    const [row] = await rs.json<{ event_id: string }>()
    await applyStoredUpdates(s.deps.events, [{ eventId: row!.event_id, was: { class: 'human', reasons: [] }, class: 'machine_open', reasons: ['burst'] }], { from: at(D), to: at(D + 2) }, 'reclassify')
    expect((await s.api('GET', `/v1/recipients/rc1?${q}`)).body).toMatchObject({ status: 'never_engaged', lastOpenAt: null })
    const after = (await s.api('GET', `/v1/engagement?${q}`)).body.counts
    expect(after).toEqual({ ...before, active: before.active - 1, never_engaged: before.never_engaged + 1 })

    expect((await s.api('GET', `/v1/recipients/rc2/pressure?${q}`)).body.total).toBe(1)
    expect((await s.api('DELETE', '/v1/recipients/rc2')).status).toBe(200)
    expect((await s.api('GET', `/v1/recipients/rc2?${q}`)).status).toBe(404)
    expect((await s.api('GET', `/v1/recipients/rc2/pressure?${q}`)).body.total).toBe(0)
    expect((await s.api('GET', `/v1/engagement?${q}`)).body.recipients).toBe(after.active + after.lapsing + after.inactive + after.never_engaged + after.dormant - 1)
  })
})

describe('the per-recipient engagement summary (recipient_engagement) stays exact', () => {
  const D = 400 // clear of the histories above
  const rows = async (r: string, table = 'recipient_engagement') =>
    (await s.deps.events.client.query({ query: `SELECT count() AS n FROM ${s.deps.events.db}.${table} WHERE recipient_id = {r:String}`, query_params: { r }, format: 'JSONEachRow' }).then((x) => x.json<{ n: number }>()))[0]!.n

  it('a human click later reclassified as a scanner no longer makes its recipient active, and counts again once reclassified human', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'sc', name: 'sc', settings: { category: 'newsletter' } })
    await s.api('POST', '/v1/campaigns/sc/links', { url: 'https://shop.example/sc' })
    const urls = await send('sc', ['sc1'], D)
    now = at(D + 1)
    await readerClick(urls.get('sc1')!.links[0]!.url)
    await s.flush()
    const q = `at=${iso(at(D + 2))}`
    expect((await s.api('GET', `/v1/recipients/sc1?${q}`)).body).toMatchObject({ status: 'active', lastClickAt: iso(at(D + 1)) })
    const before = (await s.api('GET', `/v1/engagement?${q}&category=newsletter`)).body.counts

    const [click] = await s.deps.events.client
      .query({ query: `SELECT event_id FROM ${s.deps.events.db}.events WHERE recipient_id = 'sc1' AND type = 'click'`, format: 'JSONEachRow' })
      .then((x) => x.json<{ event_id: string }>())
    const range = { from: at(D), to: at(D + 2) }
    await applyStoredUpdates(s.deps.events, [{ eventId: click!.event_id, was: { class: 'human', reasons: [] }, class: 'scanner_click', reasons: ['too_soon_after_send'] }], range)
    expect((await s.api('GET', `/v1/recipients/sc1?${q}`)).body).toMatchObject({ status: 'never_engaged', lastClickAt: null })
    expect((await s.api('GET', `/v1/engagement?${q}&category=newsletter`)).body.counts).toEqual({ ...before, active: before.active - 1, never_engaged: before.never_engaged + 1 })
    expect((await ndjson(`/v1/audience?status=active&${q}`)).map((r) => r.recipientId)).not.toContain('sc1')

    // An administrator's reclassify back to human: the summary is rebuilt from events again.
    await applyStoredUpdates(s.deps.events, [{ eventId: click!.event_id, was: { class: 'scanner_click', reasons: ['too_soon_after_send'] }, class: 'human', reasons: [] }], range, 'reclassify')
    expect((await s.api('GET', `/v1/recipients/sc1?${q}`)).body).toMatchObject({ status: 'active', lastClickAt: iso(at(D + 1)) })
    expect((await s.api('GET', `/v1/engagement?${q}&category=newsletter`)).body.counts).toEqual(before)
  })

  it('at an instant between two opens of one campaign, the earlier one counts (the summary keeps only the latest)', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'tw', name: 'tw', settings: { category: 'newsletter' } })
    const urls = await send('tw', ['tw1', 'tw2'], D + 10)
    await open(urls.get('tw1')!.pixelUrl, D + 11, BROWSER_UA)
    await open(urls.get('tw1')!.pixelUrl, D + 15, BROWSER_UA)
    await open(urls.get('tw2')!.pixelUrl, D + 15, BROWSER_UA)
    await s.flush()
    const between = `at=${iso(at(D + 13))}`
    // Merged into one row (first open D + 11, latest D + 15): the instant between is answered from events.
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_engagement FINAL` })
    expect((await s.api('GET', `/v1/recipients/tw1?${between}`)).body).toMatchObject({ status: 'active', lastOpenAt: iso(at(D + 11)) })
    expect((await s.api('GET', `/v1/recipients/tw2?${between}`)).body).toMatchObject({ status: 'never_engaged', lastOpenAt: null })
    expect((await s.api('GET', `/v1/recipients/tw1?at=${iso(at(D + 16))}`)).body).toMatchObject({ lastOpenAt: iso(at(D + 15)) })
    const csv = await s.api('GET', `/v1/audience?status=active&category=newsletter&${between}`, undefined, { accept: 'text/csv' })
    expect(csv.body).toContain(`tw1,active,${iso(at(D + 11))},`)
    expect(csv.body).not.toContain('tw2')
    // The weekly series reads the same: tw1 active at D + 13 and D + 16, tw2 only at D + 16.
    const w = await s.api('GET', `/v1/engagement?at=${iso(at(D + 16))}&from=${iso(at(D + 2))}&category=newsletter`)
    const point = (ms: number) => w.body.weekly.find((x: { at: string }) => x.at === iso(ms)).counts
    expect(point(at(D + 16)).active - point(at(D + 9)).active).toBe(2)

    // Erasure takes their summary row with the rest.
    expect(Number(await rows('tw1'))).toBeGreaterThan(0)
    expect(Number(await rows('tw1', 'recipient_engagement_days'))).toBeGreaterThan(0)
    expect((await s.api('DELETE', '/v1/recipients/tw1')).status).toBe(200)
    expect(Number(await rows('tw1'))).toBe(0)
    expect(Number(await rows('tw1', 'recipient_engagement_days'))).toBe(0)
  })

  it('the counts (status alone, a lower bound from the summary and events only near the thresholds) match the wake-up list at the thresholds\' edges', async () => {
    const E = 500
    await s.api('POST', '/v1/campaigns', { id: 'ed', name: 'ed', settings: { category: 'edges' } })
    const ids = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6']
    const urls = await send('ed', ids, E)
    // Each reader's human opens (days after E); every one opens again at E + 60, so at E + 30 and E + 50
    // the merged row's latest is later and its first (E + 1) earlier than the thresholds.
    const opens: Record<string, number[]> = { x1: [1, 25], x2: [1, 15], x3: [1], x4: [1, 20], x5: [1, 30], x6: [1, 10] }
    for (const day of [1, 10, 15, 20, 25, 30, 60])
      for (const id of ids) if (day === 60 || opens[id]!.includes(day)) await open(urls.get(id)!.pixelUrl, E + day, BROWSER_UA)
    await s.flush()
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_engagement FINAL` })
    const thresholds = 'activeDays=10&inactiveDays=40&minSends=1'
    const counts = async (day: number, category = '') => (await s.api('GET', `/v1/engagement?at=${iso(at(E + day))}&${thresholds}${category}`)).body.counts
    // At E + 30 (active after E + 20): x1 by its open at E + 25 and x5 by the one at `at` itself, read
    // from events; x4's open exactly at E + 20 is not within the 10 days.
    expect(await counts(30, '&category=edges')).toEqual({ active: 2, lapsing: 4, inactive: 0, never_engaged: 0, dormant: 0 })
    // At E + 50 (lapsing after E + 10): x3's only earlier open and x6's exactly at E + 10 make them dormant
    // (engaged once, the send not recent), not never engaged; the others lapsing by an open read from events.
    expect(await counts(50, '&category=edges')).toEqual({ active: 0, lapsing: 4, inactive: 0, never_engaged: 0, dormant: 2 })
    // Over every campaign, the counts are the wake-up list's statuses (the full query) tallied.
    for (const day of [30, 50]) {
      const list = await ndjson(`/v1/audience?status=active,lapsing,inactive,never_engaged,dormant&at=${iso(at(E + day))}&${thresholds}`)
      const tally = Object.fromEntries(['active', 'lapsing', 'inactive', 'never_engaged', 'dormant'].map((st) => [st, list.filter((r) => r.status === st).length]))
      expect(await counts(day), `day ${day}`).toEqual(tally)
      expect(list.filter((r) => r.recipientId.startsWith('x')).map((r) => [r.recipientId, r.status])).toEqual(
        day === 30
          ? [['x1', 'active'], ['x2', 'lapsing'], ['x3', 'lapsing'], ['x4', 'lapsing'], ['x5', 'active'], ['x6', 'lapsing']]
          : [['x1', 'lapsing'], ['x2', 'lapsing'], ['x3', 'dormant'], ['x4', 'lapsing'], ['x5', 'lapsing'], ['x6', 'dormant']],
      )
    }
  })
})

describe('the per-day summary (recipient_engagement_days) gives the counts over every campaign', () => {
  it('within a day: opens on both sides of `at`, only after it, a threshold inside the day; a late event; merged or not', async () => {
    const X = 600 // clear of the histories above; `at` is day X at 08:00
    const H = 3_600_000
    await s.api('POST', '/v1/campaigns', { id: 'dy', name: 'dy', settings: { category: 'days' } })
    const urls = await send('dy', ['y1', 'y2', 'y3', 'y4', 'y5'], X - 10)
    const openAt = async (id: string, ms: number) => {
      now = ms
      const r = await fetch(urls.get(id)!.pixelUrl, { headers: { 'user-agent': BROWSER_UA } })
      await r.arrayBuffer()
    }
    // y1: 06:00 and 10:00 of day X; y2: day X - 3 and 10:00 of day X; y3: 10:00 of day X only;
    // y4: 07:00 and 09:00 of day X - 1 (activeFrom, 08:00 of X - 1, falls between them); y5: 07:00 of X - 1 only.
    await openAt('y1', at(X) - 2 * H)
    await openAt('y1', at(X) + 2 * H)
    await openAt('y2', at(X - 3))
    await openAt('y2', at(X) + 2 * H)
    await openAt('y3', at(X) + 2 * H)
    await openAt('y4', at(X - 1) - H)
    await openAt('y4', at(X - 1) + H)
    await openAt('y5', at(X - 1) - H)
    await s.flush()
    const q = `at=${iso(at(X))}&activeDays=1&inactiveDays=5&minSends=2`
    const check = async (want: Record<string, string>) => {
      const list = await ndjson(`/v1/audience?status=active,lapsing,inactive,never_engaged,dormant&${q}`)
      expect(Object.fromEntries(list.filter((r) => r.recipientId.startsWith('y')).map((r) => [r.recipientId, r.status]))).toEqual(want)
      const tally = Object.fromEntries(['active', 'lapsing', 'inactive', 'never_engaged', 'dormant'].map((st) => [st, list.filter((r) => r.status === st).length]))
      // Over every campaign the counts read the per-day summary; the list reads the per-campaign one and events.
      expect((await s.api('GET', `/v1/engagement?${q}`)).body.counts).toEqual(tally)
    }
    const want = { y1: 'active', y2: 'lapsing', y3: 'never_engaged', y4: 'active', y5: 'lapsing' }
    await check(want)
    // A late event: y3's open of day X - 2 stored after the others (its own row until merged).
    await openAt('y3', at(X - 2) + 4 * H)
    await s.flush()
    await check({ ...want, y3: 'lapsing' })
    await s.deps.events.client.command({ query: `OPTIMIZE TABLE ${s.deps.events.db}.recipient_engagement_days FINAL` })
    await check({ ...want, y3: 'lapsing' })
  })
})

describe('fatigue', () => {
  it('buckets each send by the sends before it in the window, rates computed by hand', async () => {
    const B = 200 // days after T0, clear of the engagement history
    for (const id of ['f1', 'f2', 'f3', 'f4']) await s.api('POST', '/v1/campaigns', { id, name: id, settings: { category: 'digest' } })
    await s.api('POST', '/v1/campaigns/f2/links', { url: 'https://shop.example/f2' })
    // r1: f1..f4 on days 0, 5, 10, 15 (0, 1, 2, 3 sends before each); r2: f1 on day 0, f4 on day 15 (0, 1).
    const f1 = await send('f1', ['r1', 'r2'], B)
    const f2 = await send('f2', ['r1'], B + 5)
    await send('f3', ['r1'], B + 10)
    const f4 = await send('f4', ['r1', 'r2'], B + 15)
    await open(f1.get('r1')!.pixelUrl, B + 1, BROWSER_UA)
    await open(f4.get('r2')!.pixelUrl, B + 15.5, BROWSER_UA)
    await open(f4.get('r1')!.pixelUrl, B + 15.5, MPP_UA)
    now = at(B + 6)
    await readerClick(f2.get('r1')!.links[0]!.url)
    await s.api('POST', '/v1/conversions', { orderId: 'f-1', recipientId: 'r1', amount: '5.00', currency: 'EUR', at: iso(at(B + 6.5)) })
    now = at(B + 16)
    const u = await fetch(`${s.url}/u/f4/${s.deps.tokens.sign('f4', 'r1')}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(u.status).toBe(200)
    await s.flush()

    const r = await s.api('GET', `/v1/pressure/fatigue?window=P30D&category=digest&from=${iso(at(B - 1))}&to=${iso(at(B + 16))}`)
    expect(r.status).toBe(200)
    const [b01, b23, b46, b7] = r.body.buckets
    expect(r.body.buckets.map((b: { label: string }) => b.label)).toEqual(['0-1', '2-3', '4-6', '7+'])
    // 0-1: r1·f1 (opened), r1·f2 (clicked, converted), r2·f1, r2·f4 (opened).
    expect(b01).toMatchObject({ sends: 4, opened: 2, clicked: 1, unsubscribed: 0, converted: 1 })
    expect(b01.openRate.value).toBe(0.5)
    expect(b01.openRate.low).toBeCloseTo(0.15, 2)
    expect(b01.openRate.high).toBeCloseTo(0.85, 2)
    // 2-3: r1·f3 (nothing), r1·f4 (an MPP open only, then an unsubscribe).
    expect(b23).toMatchObject({ sends: 2, opened: 0, clicked: 0, unsubscribed: 1, converted: 0 })
    expect(b23.unsubscribeRate.value).toBe(0.5)
    expect(b46.sends + b7.sends).toBe(0)
    // Every campaign (no category): the only sends of that span are the digest's, so the same curve,
    // the order credited to f2 included.
    const every = await s.api('GET', `/v1/pressure/fatigue?window=P30D&from=${iso(at(B - 1))}&to=${iso(at(B + 16))}`)
    expect(every.body.buckets.slice(0, 2)).toEqual([b01, b23])

    // Chosen buckets: one per count.
    const fine = await s.api('GET', `/v1/pressure/fatigue?window=P30D&category=digest&buckets=0,1,2,3&from=${iso(at(B - 1))}&to=${iso(at(B + 16))}`)
    expect(fine.body.buckets.map((b: { label: string; sends: number }) => [b.label, b.sends])).toEqual([['0', 2], ['1', 2], ['2', 1], ['3+', 1]])

    // The pressure distribution over the digest campaigns at day 16, 7-day window: r1 got f3 and f4,
    // r2 f4; everyone else ever sent to (the tests above) is in the 0 bar.
    const p = await s.api('GET', `/v1/pressure?window=P7D&category=digest&at=${iso(at(B + 16))}`)
    expect(p.body.histogram).toEqual([{ sends: 0, recipients: p.body.recipients - 2 }, { sends: 1, recipients: 1 }, { sends: 2, recipients: 1 }])
    expect(p.body.sends).toBe(3)
    expect(p.body.percentiles.max).toBe(2)
    const all = await s.api('GET', `/v1/pressure?window=P30D&at=${iso(at(B + 16))}`)
    expect(all.body.histogram.at(-1)).toEqual({ sends: 4, recipients: 1 })

    // r2's open of f4 found to be a machine's (an ALTER TABLE … UPDATE, then recipient_engagement
    // rebuilt): 0-1 keeps one opener. r2 erased: their two sends leave the curve.
    const curve = `/v1/pressure/fatigue?window=P30D&category=digest&from=${iso(at(B - 1))}&to=${iso(at(B + 16))}`
    const rs = await s.deps.events.client.query({ query: `SELECT event_id FROM ${s.deps.events.db}.events WHERE recipient_id = 'r2' AND campaign_id = 'f4' AND type = 'open'`, format: 'JSONEachRow' })
    const [row] = await rs.json<{ event_id: string }>()
    await applyStoredUpdates(s.deps.events, [{ eventId: row!.event_id, was: { class: 'human', reasons: [] }, class: 'machine_open', reasons: ['burst'] }], { from: at(B + 15), to: at(B + 16) }, 'reclassify')
    expect((await s.api('GET', curve)).body.buckets[0]).toMatchObject({ sends: 4, opened: 1, clicked: 1, converted: 1 })
    expect((await s.api('DELETE', '/v1/recipients/r2')).status).toBe(200)
    expect((await s.api('GET', curve)).body.buckets.map((b: { sends: number; opened: number }) => [b.sends, b.opened])).toEqual([[2, 1], [2, 0], [0, 0], [0, 0]])
  })

  it('counts sends of the same second as not before each other, and the window start as inside it', async () => {
    const B = 500 // clear of the histories above
    for (const id of ['t1', 't2', 't3', 't4']) await s.api('POST', '/v1/campaigns', { id, name: id, settings: { category: 'ties' } })
    // r3: t1 and t2 in the same second (0 earlier each), t3 a day later (2), t4 exactly 30 days after
    // t3 (t3 is at the window's first instant: 1; t1 and t2 are out of it).
    await send('t1', ['r3'], B)
    await send('t2', ['r3'], B)
    const t3 = await send('t3', ['r3'], B + 1)
    await send('t4', ['r3'], B + 31)
    await open(t3.get('r3')!.pixelUrl, B + 2, BROWSER_UA)
    await s.flush()
    const r = await s.api('GET', `/v1/pressure/fatigue?window=P30D&category=ties&buckets=0,1,2,3&from=${iso(at(B - 1))}&to=${iso(at(B + 32))}`)
    expect(r.body.buckets.map((b: { label: string; sends: number; opened: number }) => [b.label, b.sends, b.opened])).toEqual([
      ['0', 2, 0],
      ['1', 1, 0],
      ['2', 1, 1],
      ['3+', 0, 0],
    ])
    // t4 at `to`: neither measured nor counted; the others as before.
    const early = await s.api('GET', `/v1/pressure/fatigue?window=P30D&category=ties&buckets=0,1,2&from=${iso(at(B))}&to=${iso(at(B + 31))}`)
    expect(early.body.buckets.map((b: { sends: number }) => b.sends)).toEqual([2, 0, 1])
  })
})
