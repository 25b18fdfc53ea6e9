import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, BROWSER_UA, startTestServer, type TestServer } from '../support/server.js'
import { signIn } from './seed.js'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T08:00:00Z')
/** Apple Mail Privacy Protection fetches the pixel with a bare user agent: a machine open. */
const MPP_UA = 'Mozilla/5.0'

let s: TestServer
let now = T0
let cookie: string

async function send(campaign: string, ids: string[], day: number) {
  now = T0 + day * DAY
  const r = await s.api('POST', `/v1/campaigns/${campaign}/sends`, { recipients: ids.map((id) => ({ id })), sentAt: new Date(now).toISOString() })
  expect(r.status).toBe(201)
  return new Map<string, string>(r.body.recipients.map((x: { id: string; pixelUrl: string }) => [x.id, x.pixelUrl]))
}
async function open(url: string, day: number, ua: string) {
  now = T0 + day * DAY
  await (await fetch(url, { headers: { 'user-agent': ua } })).arrayBuffer()
}

beforeAll(async () => {
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  for (const id of ['d0', 'd1', 'd2']) await s.api('POST', '/v1/campaigns', { id, name: id, settings: { category: 'digest' } })
  await s.api('POST', '/v1/campaigns', { id: 'n0', name: 'n0', settings: { category: 'news' } })
  // a, b and c get a digest on days 0, 5 and 10: the third has 2 earlier sends in 30 days (bucket 2-3).
  await send('d0', ['a', 'b', 'c'], 0)
  await send('n0', ['q'], 1)
  await send('d1', ['a', 'b', 'c'], 5)
  const third = await send('d2', ['a', 'b', 'c'], 10)
  await open(third.get('a')!, 11, BROWSER_UA)
  // b's only open is an MPP prefetch: neither an open in the curve nor engagement.
  await open(third.get('b')!, 11, MPP_UA)
  await s.flush()
  now = T0 + 12 * DAY
  cookie = (await signIn(s, ADMIN_KEY)).cookie
}, 60_000)
afterAll(async () => {
  await s.stop()
})

const get = async (path: string) => {
  const res = await fetch(s.url + path, { redirect: 'manual', headers: { cookie } })
  return { status: res.status, csp: res.headers.get('content-security-policy'), text: await res.text() }
}
const row = (html: string, attr: string) => {
  const m = new RegExp(`<tr ${attr.replace(/[+]/g, '\\+')}>(.*?)</tr>`).exec(html)
  if (!m) throw new Error(`no row ${attr}`)
  return m[1]!
}

describe('the pressure page', () => {
  it('shows the fatigue buckets with their counts, the distribution and the engagement counts, people only', async () => {
    const r = await get('/dashboard/pressure?window=P30D&category=digest')
    expect(r.status).toBe(200)
    expect(r.csp).toContain("script-src 'self'")
    expect(r.text).not.toMatch(/<script>/)
    expect(r.text).toContain('<a href="/dashboard/pressure">Pressure</a>')
    // 6 first and second digests (0 or 1 before), 3 third ones (2 before), one opened by a person.
    const low = row(r.text, 'data-bucket="0-1"')
    expect(low).toContain('<td class="num" data-col="sends">6</td>')
    expect(low).toContain('data-col="opened">0 / 6')
    const two = row(r.text, 'data-bucket="2-3"')
    expect(two).toContain('<td class="num" data-col="sends">3</td>')
    expect(two).toContain('data-col="opened">1 / 3')
    expect(two).toContain('data-col="clicked">0 / 3')
    expect(row(r.text, 'data-bucket="7+"')).toContain('data-col="sends">0</td>')
    const chart = /data-fatigue="([^"]*)"/.exec(r.text)![1]!.replace(/&quot;/g, '"')
    expect(JSON.parse(chart).rates[0]).toMatchObject({ label: 'Open rate', value: [0, 33.33, null, null] })
    // q (news only) is the 0 row; a, b and c have 3 digests each in the window.
    expect(row(r.text, 'data-sends="0"')).toContain('<td class="num">1</td>')
    expect(row(r.text, 'data-sends="3"')).toContain('<td class="num">3</td>')
    expect(r.text).toContain('median 3, p90 3, p99 3, max 3')
    expect(row(r.text, 'data-status="active"')).toContain('<td class="num">1</td>')
    expect(row(r.text, 'data-status="inactive"')).toContain('<td class="num">2</td>')
  })

  it('answers a bad window or category with 400 and a clear message, escaped', async () => {
    const bad = await get('/dashboard/pressure?window=P1M')
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('Window: expected an ISO-8601 duration in days or weeks, like P7D, P30D or P2W')
    const xss = await get(`/dashboard/pressure?window=P7D&category=${encodeURIComponent('<script>x</script>')}`)
    expect(xss.status).toBe(400)
    expect(xss.text).toContain('Category: no campaign has this category.')
    expect(xss.text).not.toContain('<script>x')
  })
})
