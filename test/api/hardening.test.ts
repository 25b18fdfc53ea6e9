import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger, MAX_LOG_LINE } from '../../src/logger.js'
import { csvField } from '../../src/metrics/audience.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { ADMIN_KEY, BROWSER_UA, readerClick, readerFetch, startTestServer, type TestServer } from '../support/server.js'

/*
 * Issue 15, against the real server on the real stores: what a hostile outsider or a careless
 * client did to the API and what it must answer now.
 */
let s: TestServer
let rec: { id: string; token: string; pixelUrl: string; links: Array<{ id: string; url: string }> }

beforeAll(async () => {
  s = await startTestServer()
  expect((await s.api('POST', '/v1/campaigns', { id: 'hard', name: 'Hard', tracking: { clickIdParam: 'sl_cid', utm: false } })).status).toBe(201)
  expect((await s.api('POST', '/v1/campaigns/hard/links', { url: 'https://shop.example/hard' })).status).toBe(201)
  const sends = await s.api('POST', '/v1/campaigns/hard/sends', { recipients: [{ id: 'r1' }, { id: 'r2' }] })
  expect(sends.status).toBe(201)
  rec = sends.body.recipients[0]
})
afterAll(async () => {
  await s.stop()
})

const pixel = (q: string) => fetch(`${s.url}/t/conversion.gif?${q}`, { headers: { 'user-agent': BROWSER_UA } })

describe('conversions: no order lost or hijacked', () => {
  it('an anonymous pixel does not suppress the authenticated POST of the same order; reports count the authenticated one', async () => {
    const cid = await readerClick(rec.links[0]!.url)
    expect(cid).toBeTruthy()
    // The stranger's pixel comes first, with the same click id, a tiny amount.
    expect((await pixel(`order=shop-order-20001&amount=0.01&currency=EUR&cid=${encodeURIComponent(cid!)}`)).status).toBe(200)
    expect((await pixel('order=shop-order-20002&amount=0.01&currency=EUR')).status).toBe(200)
    const shop = await s.api('POST', '/v1/conversions', { clickId: cid, orderId: 'shop-order-20001', amount: '500.00', currency: 'EUR' })
    expect(shop.status).toBe(201)
    expect(shop.body).toMatchObject({ duplicate: false, attribution: { status: 'click', campaignId: 'hard', recipientId: 'r1' } })
    await s.flush()
    // Once both are in ClickHouse: the authenticated one is still not a duplicate of the pixel's...
    expect((await s.api('POST', '/v1/conversions', { orderId: 'shop-order-20002', amount: '20.00', currency: 'EUR' })).status).toBe(201)
    // ...but a second authenticated POST is, and so is a pixel after an authenticated write.
    expect((await s.api('POST', '/v1/conversions', { clickId: cid, orderId: 'shop-order-20001', amount: '500.00', currency: 'EUR' })).body.duplicate).toBe(true)
    expect((await pixel(`order=shop-order-20001&amount=9&currency=EUR&cid=${encodeURIComponent(cid!)}`)).status).toBe(200)
    await s.flush()
    const rows = await queryRows<{ method: string; amount: string }>(
      s.deps.events,
      `SELECT method, toString(amount) AS amount FROM ${s.deps.events.db}.events WHERE type = 'conversion' AND order_id = 'shop-order-20001' ORDER BY method`,
    )
    expect(rows).toEqual([
      { method: 'GET', amount: '0.01' },
      { method: 'POST', amount: '500' },
    ])
    const stats = await s.api('GET', '/v1/campaigns/hard/conversions')
    expect(stats.status).toBe(200)
    expect(JSON.stringify(stats.body)).toContain('"500.00"')
    expect(JSON.stringify(stats.body)).not.toContain('"0.01"')
  })

  it('a batch with a deeply nested item is a 400 naming it, and the valid orders can be posted again', async () => {
    const valid = [
      { orderId: 'batch-1', recipientId: 'r1', amount: '10', currency: 'EUR' },
      { orderId: 'batch-2', recipientId: 'r2', amount: '20', currency: 'EUR' },
    ]
    // 20,000 levels: written as text (JSON.stringify of it would overflow the stack here too).
    const deep = '['.repeat(20_000) + '"x"' + ']'.repeat(20_000)
    const third = `{"orderId":"batch-3","recipientId":"r2","amount":"30","currency":"EUR","items":[{"sku":"a","name":${deep}}]}`
    const bad = await s.api('POST', '/v1/conversions', `{"conversions":[${valid.map((v) => JSON.stringify(v)).join(',')},${third}]}`)
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/^body\.conversions\.2\.items\.0\.name/)
    const again = await s.api('POST', '/v1/conversions', { conversions: valid })
    expect(again.status).toBe(201)
    expect(again.body).toMatchObject({ created: 2, duplicates: 0 })
  })

  it('items are bounded: known fields, sizes, at most 100', async () => {
    const post = (items: unknown) => s.api('POST', '/v1/conversions', { orderId: `it-${Math.random()}`, amount: '1', currency: 'EUR', items })
    const ok = await post([{ sku: 'TSHIRT-M', name: 'T-shirt', category: 'apparel', quantity: 2, price: '19.90' }])
    expect(ok.status).toBe(201)
    for (const [items, field] of [
      [[{ sku: 'a', colour: 'red' }], 'body.items.0'],
      [[{ sku: 'a'.repeat(101) }], 'body.items.0.sku'],
      [[{ sku: 'a', quantity: 0 }], 'body.items.0.quantity'],
      [[{ sku: 'a', price: '-1' }], 'body.items.0.price'],
      [[{ sku: 'a', name: { nested: true } }], 'body.items.0.name'],
      [Array.from({ length: 101 }, () => ({ sku: 'a' })), 'body.items'],
    ] as const) {
      const r = await post(items)
      expect(r.status, field).toBe(400)
      expect(r.body.error.message, field).toContain(field)
    }
  })

  it('an order id counts as recorded only once its write succeeded: a retry after a 503 is recorded', async () => {
    const journal = s.deps.journal as unknown as { stats: { lost: number } }
    // The journal reports a loss for this one call, as when the disk is full.
    const real = s.deps.journal.appendAsync.bind(s.deps.journal)
    let failNext = true
    s.deps.journal.appendAsync = async (line: string) => {
      await real(line)
      if (failNext) {
        failNext = false
        ;(s.deps.journal as unknown as { own: { lost: number } }).own.lost++
      }
    }
    try {
      const first = await s.api('POST', '/v1/conversions', { orderId: 'retry-1', recipientId: 'r1', amount: '5', currency: 'EUR' })
      expect(first.status).toBe(503)
      expect(journal.stats.lost).toBeGreaterThan(0)
      const retry = await s.api('POST', '/v1/conversions', { orderId: 'retry-1', recipientId: 'r1', amount: '5', currency: 'EUR' })
      expect(retry.status).toBe(201)
      expect(retry.body.duplicate).toBe(false)
    } finally {
      s.deps.journal.appendAsync = real
    }
  })

  it('absurd dates and unknown campaigns are refused', async () => {
    for (const at of ['0001-01-01T00:00:00Z', '9999-12-31T00:00:00Z']) {
      const r = await s.api('POST', '/v1/conversions', { orderId: `d-${at}`, recipientId: 'r1', at })
      expect(r.status).toBe(400)
      expect(r.body.error.message).toMatch(/^body\.at/)
      const sends = await s.api('POST', '/v1/campaigns/hard/sends', { recipients: [{ id: 'r9' }], sentAt: at })
      expect(sends.status).toBe(400)
      expect(sends.body.error.message).toMatch(/^body\.sentAt/)
    }
    const r = await s.api('POST', '/v1/conversions', { orderId: 'unknown-campaign', recipientId: 'r1', campaignId: 'nope' })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toMatch(/^body\.campaignId: no campaign/)
  })
})

describe('forged tokens stay out of the headline numbers', () => {
  it('opens, clicks, per-link clicks and timeseries count verified tokens only; traffic=all and invalidToken show the rest', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'forged', name: 'Forged' })
    const link = (await s.api('POST', '/v1/campaigns/forged/links', { url: 'https://shop.example/f' })).body.id as string
    const real = (await s.api('POST', '/v1/campaigns/forged/sends', { recipients: [{ id: 'ok' }] })).body.recipients[0]
    const forged = Buffer.from('victim').toString('base64url') + '.AAAAAAAAAAAAAAAA'
    for (let i = 0; i < 10; i++) {
      expect((await readerFetch(`${s.url}/c/${link}/${forged}`)).status).toBe(302)
      expect((await readerFetch(`${s.url}/o/forged/${forged}.gif`)).status).toBe(200)
    }
    expect((await readerFetch(real.links[0].url)).status).toBe(302)
    await s.flush()
    const stats = (await s.api('GET', '/v1/campaigns/forged/stats')).body
    expect(stats.opens).toMatchObject({ total: 0, unique: 0 })
    expect(stats.clicks).toMatchObject({ total: 1, unique: 1 })
    expect(stats.invalidToken).toEqual({ opens: 10, clicks: 10 })
    const all = (await s.api('GET', '/v1/campaigns/forged/stats?traffic=all')).body
    expect(all.clicks.total).toBe(11)
    expect(all.opens.total).toBe(10)
    const links = (await s.api('GET', '/v1/campaigns/forged/links/stats')).body
    expect(links.links[0]).toMatchObject({ linkId: link, clicks: 1, uniqueClickers: 1 })
    expect((await s.api('GET', '/v1/campaigns/forged/links/stats?traffic=all')).body.links[0].clicks).toBe(11)
    const sum = (b: { buckets: Array<{ value: number }> }) => b.buckets.reduce((n, x) => n + x.value, 0)
    expect(sum((await s.api('GET', '/v1/campaigns/forged/timeseries?metric=clicks&interval=hour')).body)).toBe(1)
    expect(sum((await s.api('GET', '/v1/campaigns/forged/timeseries?metric=opens&interval=hour')).body)).toBe(0)
    expect(sum((await s.api('GET', '/v1/campaigns/forged/timeseries?metric=clicks&interval=hour&traffic=all')).body)).toBe(11)
  })
})

describe('bounded storage', () => {
  it('User-Agent and Referer are stored clipped to 512 characters (classified whole)', async () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 ' + 'x'.repeat(7_500)
    const referer = 'https://mail.example/?' + 'q'.repeat(7_500)
    expect((await fetch(rec.links[0]!.url, { redirect: 'manual', headers: { 'user-agent': ua, referer } })).status).toBe(302)
    expect((await fetch(`${s.url}/t/conversion.gif?order=ua-long`, { headers: { 'user-agent': ua, referer } })).status).toBe(200)
    await s.flush()
    const rows = await queryRows<{ type: string; ua: number; ref: number; class: string }>(
      s.deps.events,
      `SELECT type, length(user_agent) AS ua, length(referer) AS ref, class FROM ${s.deps.events.db}.events WHERE position(user_agent, 'xxxxxxxx') > 0 ORDER BY type`,
    )
    expect(rows.map((r) => [r.type, Number(r.ua), Number(r.ref)])).toEqual([
      ['click', 512, 512],
      ['conversion', 512, 512],
    ])
  })
})

describe('400, not 500, for what a client sends', () => {
  it('lone surrogates and NUL name the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/campaigns/hard/sends', { recipients: [{ id: 'ok' }, { id: '\ud800' }] }, 'body.recipients.1.id'],
      ['POST', '/v1/campaigns', { id: 'surr', name: 'S', settings: { utm: { source: 'a\udc00' } } }, 'body.settings.utm.source'],
      ['PATCH', '/v1/campaigns/hard', { settings: { utm: { source: '\ud800x' } } }, 'body.settings.utm.source'],
      ['POST', '/v1/campaigns', { id: 'nul', name: 'N', settings: { utm: { source: 'a\u0000b' } } }, 'body.settings.utm.source'],
      ['PATCH', '/v1/campaigns/hard', { settings: { utm: { source: 'a\u0000' } } }, 'body.settings.utm.source'],
      ['POST', '/v1/conversions', { orderId: 'x\u0000' }, 'body.orderId'],
    ]
    for (const [method, path, body, field] of cases) {
      const r = await s.api(method, path, body)
      expect(r.status, field).toBe(400)
      expect(r.body.error.message, field).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}: `))
    }
    // A surrogate pair (an emoji) is fine.
    expect((await s.api('POST', '/v1/campaigns', { id: 'emoji', name: 'Spring 🌷', settings: { utm: { source: '🌷' } } })).status).toBe(201)
  })

  it('a template over the link limit is a 400; one near it is stored (batched insert)', async () => {
    const html = (n: number) => `<html><body>${Array.from({ length: n }, (_, i) => `<a href="https://shop.example/p${i}">p</a>`).join('')}</body></html>`
    const over = await s.api('POST', '/v1/campaigns/hard/templates', { html: html(11_000) })
    expect(over.status).toBe(400)
    expect(over.body.error.message).toMatch(/^body\.html: 11000 tracked links; at most 10000/)
    const near = await s.api('POST', '/v1/campaigns/hard/templates', { html: html(10_000) })
    expect(near.status).toBe(201)
    expect(near.body.links.length).toBe(10_000)
  }, 60_000)

  it('recipients are counted before validation: 413 at once for a 16 MB body', async () => {
    const recipients = Array.from({ length: 200_000 }, (_, i) => ({ id: `recipient-${i}`, segments: ['a', 'b', 'c'], attributes: { country: 'FR' } }))
    // The last one is invalid and has a lone surrogate: a 413 (not a 400) shows the count came
    // before the schema's and the guard's walk over every recipient (seconds on this machine before).
    recipients.push({ id: '\ud800'.repeat(300), segments: [], attributes: { country: '' } })
    const r = await s.api('POST', '/v1/campaigns/hard/sends', { recipients })
    expect(r.status).toBe(413)
    expect(r.body.error.message).toContain('at most 10000 recipients per call, got 200001')
  })

  it('dashboard: malformed multipart is a 400, a next with CR/LF falls back to /dashboard', async () => {
    for (const path of ['/dashboard/sign-in', '/dashboard/sign-out']) {
      const r = await fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zzz' }, body: '--zzz\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc', redirect: 'manual' })
      expect(r.status, path).toBeLessThan(500)
      expect([400, 401], path).toContain(r.status)
      expect(r.headers.get('set-cookie'), path).toBeNull()
    }
    const form = new URLSearchParams({ key: ADMIN_KEY, next: '/dashboard/x\r\nSet-Cookie: evil=1' })
    const r = await fetch(s.url + '/dashboard/sign-in', { method: 'POST', body: form, redirect: 'manual' })
    expect(r.status).toBe(303)
    expect(r.headers.get('location')).toBe('/dashboard')
    expect(r.headers.getSetCookie().join(';')).not.toContain('evil')
  })

  it('sign-out ends the session on the server', async () => {
    const r = await fetch(s.url + '/dashboard/sign-in', { method: 'POST', body: new URLSearchParams({ key: ADMIN_KEY }), redirect: 'manual' })
    const cookie = r.headers.getSetCookie()[0]!.split(';')[0]!
    const home = await fetch(s.url + '/dashboard', { headers: { cookie } })
    expect(home.status).toBe(200)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await home.text())![1]!
    const out = await fetch(s.url + '/dashboard/sign-out', { method: 'POST', headers: { cookie }, body: new URLSearchParams({ _csrf: csrf }), redirect: 'manual' })
    expect(out.status).toBe(303)
    // The old cookie, kept by whoever copied it, no longer opens the dashboard.
    const after = await fetch(s.url + '/dashboard', { headers: { cookie }, redirect: 'manual' })
    expect(after.status).toBe(303)
    expect(after.headers.get('location')).toMatch(/^\/dashboard\/sign-in/)
  })
})

describe('smaller', () => {
  it('/readyz says status only', async () => {
    const r = await fetch(s.url + '/readyz')
    const body = (await r.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['checks', 'status'])
    expect(JSON.stringify(body)).not.toContain('appended')
  })

  it('log lines are bounded: a failed insert quoting megabytes logs a few kilobytes', () => {
    const lines: string[] = []
    const log = createLogger('info', (l) => lines.push(l))
    log.warn('insert_failed', { message: 'Cannot parse input: ' + 'x'.repeat(2_500_000), retryInMs: 250 })
    log.error('many_fields', Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, 'y'.repeat(4000)])))
    expect(lines).toHaveLength(2)
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(MAX_LOG_LINE + 200)
    const first = JSON.parse(lines[0]!)
    expect(first).toMatchObject({ level: 'warn', msg: 'insert_failed', retryInMs: 250 })
    expect(first.message).toMatch(/^Cannot parse input: x+… \(\d+ more characters\)$/)
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'many_fields', truncated: expect.any(Number) })
  })

  it('CSV formula guard: leading whitespace or line breaks before a formula, and a list separator', () => {
    expect(csvField(' =1+1')).toBe("' =1+1")
    expect(csvField('\n=cmd')).toBe(`"'\n=cmd"`)
    expect(csvField('\u00a0@SUM(A1)')).toBe("'\u00a0@SUM(A1)")
    expect(csvField(' \t+1')).toBe("' \t+1")
    expect(csvField(';=x')).toBe('";=x"')
    expect(csvField('a;b')).toBe('"a;b"')
    expect(csvField('plain=1')).toBe('plain=1')
  })

  // Last: it leaves this address limited for a minute.
  it('failed authentications are rate-limited per address, with Retry-After', async () => {
    const wrong = () => fetch(s.url + '/v1/campaigns', { headers: { authorization: 'Bearer wrong-key-0123456789' } })
    for (let i = 0; i < 20; i++) expect((await wrong()).status).toBe(401)
    const r = await wrong()
    expect(r.status).toBe(429)
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('too_many_requests')
    // The right key from that address waits too: no oracle for a guesser.
    expect((await s.api('GET', '/v1/campaigns')).status).toBe(429)
    const signIn = await fetch(s.url + '/dashboard/sign-in', { method: 'POST', body: new URLSearchParams({ key: ADMIN_KEY }), redirect: 'manual' })
    expect(signIn.status).toBe(429)
    expect(signIn.headers.get('set-cookie')).toBeNull()
  })
})
