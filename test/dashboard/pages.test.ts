import { Parser } from 'htmlparser2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, readerClick, readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { seed, signIn, XSS_LABEL, XSS_NAME, type Seeded } from './seed.js'

let s: TestServer
let seeded: Seeded
let cookie: string

beforeAll(async () => {
  s = await startTestServer()
  seeded = await seed(s)
  cookie = (await signIn(s, ADMIN_KEY)).cookie
}, 60_000)
afterAll(async () => {
  await s.stop()
})

const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(s.url + path, { redirect: 'manual', headers: { cookie, ...headers } })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

const card = (html: string, id: string): string => {
  const m = new RegExp(`data-metric="${id}"><div class="card-label">[^<]*</div><div class="card-value">([^<]*)</div>`).exec(html)
  if (!m) throw new Error(`no card ${id}`)
  return m[1]!
}
/** Attributes named on* anywhere in the page, found by a real parser (escaped text does not count). */
function eventHandlerAttributes(html: string): string[] {
  const found: string[] = []
  const p = new Parser({ onattribute: (name) => void (/^on/i.test(name) && found.push(name)) })
  p.write(html)
  p.end()
  return found
}
const fmtInt = (n: number) => n.toLocaleString('en-US')
const fmtPct = (v: number, d = 1) => `${(v * 100).toFixed(d)}%`
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

describe('sign-in', () => {
  it('sends a visitor without a session to the sign-in form, keeping where they were going', async () => {
    const res = await fetch(`${s.url}/dashboard/campaigns/spring?traffic=all`, { redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/dashboard/sign-in?next=${encodeURIComponent('/dashboard/campaigns/spring?traffic=all')}`)
    // The bare /dashboard too (the middleware is registered on /dashboard/* only).
    const home = await fetch(`${s.url}/dashboard`, { redirect: 'manual' })
    expect(home.status).toBe(303)
    expect(home.headers.get('location')).toBe(`/dashboard/sign-in?next=${encodeURIComponent('/dashboard')}`)
    expect(home.headers.get('content-security-policy')).toContain("default-src 'none'")
    const form = await fetch(`${s.url}/dashboard/sign-in`)
    const html = await form.text()
    expect(html).toMatch(/<label for="key">API key<\/label>/)
    expect(html).toContain('type="password"')
  })

  it('refuses a wrong key without setting a cookie', async () => {
    const r = await signIn(s, 'not-the-key')
    expect(r.status).toBe(403)
    expect(r.setCookie).toBe('')
  })

  it('sets an HttpOnly, SameSite=Strict session cookie scoped to /dashboard that does not hold the key', async () => {
    const r = await signIn(s, ADMIN_KEY)
    expect(r.status).toBe(303)
    expect(r.location).toBe('/dashboard')
    expect(r.setCookie).toMatch(/HttpOnly/i)
    expect(r.setCookie).toMatch(/SameSite=Strict/i)
    expect(r.setCookie).toMatch(/Path=\/dashboard/)
    expect(r.setCookie).not.toMatch(/Secure/i)
    expect(r.setCookie).not.toContain(ADMIN_KEY)
    expect(Buffer.from(r.cookie.split('=')[1]!.split('.')[0]!, 'base64url').toString()).not.toContain(ADMIN_KEY)
    expect((await get('/dashboard', { cookie: r.cookie })).status).toBe(200)
  })

  it('marks the cookie Secure behind an https proxy', async () => {
    const res = await fetch(`${s.url}/dashboard/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({ key: ADMIN_KEY }),
    })
    expect(res.headers.get('set-cookie')).toMatch(/;\s*Secure/i)
  })

  it('accepts a key made through the API', async () => {
    const k = await s.api('POST', '/v1/api-keys', { name: 'dash' })
    expect(k.status).toBe(201)
    const r = await signIn(s, k.body.key)
    expect(r.status).toBe(303)
    expect((await get('/dashboard', { cookie: r.cookie })).status).toBe(200)
  })

  it('refuses a tampered or foreign session cookie', async () => {
    const [payload, mac] = cookie.split('=')[1]!.split('.')
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    forged.expires += 1e9
    const other = Buffer.from(JSON.stringify(forged)).toString('base64url')
    for (const value of [`${other}.${mac}`, `${payload}.${mac!.slice(0, -2)}AA`, 'garbage']) {
      const r = await get('/dashboard', { cookie: `sillage_session=${value}` })
      expect(r.status).toBe(303)
    }
  })

  it('refuses a sign-in posted from another site', async () => {
    const res = await fetch(`${s.url}/dashboard/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ key: ADMIN_KEY }),
    })
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('never redirects off the dashboard after sign-in', async () => {
    for (const next of ['https://evil.example/', '//evil.example/', '/dashboard\\@evil.example', '/v1/campaigns']) {
      const res = await fetch(`${s.url}/dashboard/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key: ADMIN_KEY, next }),
      })
      expect(res.headers.get('location')).toBe('/dashboard')
    }
  })

  it('signs out only with the form token of the session (CSRF)', async () => {
    const r = await signIn(s, ADMIN_KEY)
    const page = await get('/dashboard', { cookie: r.cookie })
    const token = unescape(/name="_csrf" value="([^"]+)"/.exec(page.text)![1]!)
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${s.url}/dashboard/sign-out`, { method: 'POST', redirect: 'manual', headers: { cookie: r.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) })
    expect((await post({})).status).toBe(403)
    expect((await post({ _csrf: 'x'.repeat(token.length) })).status).toBe(403)
    // The token of another session does not work either.
    const otherPage = await get('/dashboard')
    const otherToken = unescape(/name="_csrf" value="([^"]+)"/.exec(otherPage.text)![1]!)
    expect(otherToken).not.toBe(token)
    expect((await post({ _csrf: otherToken })).status).toBe(403)
    expect((await post({ _csrf: token }, { origin: 'https://evil.example' })).status).toBe(403)
    const ok = await post({ _csrf: token })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('set-cookie')).toMatch(/sillage_session=;.*Max-Age=0/i)
  })
})

describe('pages', () => {
  it('serves every page with a strict CSP and no inline script', async () => {
    for (const path of ['/dashboard', '/dashboard/campaigns/spring', '/dashboard/compare?campaigns=spring&campaigns=xss', '/dashboard/recipients?id=r01']) {
      const r = await get(path)
      expect(r.status, path).toBe(200)
      const csp = r.headers.get('content-security-policy')!
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("default-src 'none'")
      expect(csp).not.toMatch(/script-src[^;]*unsafe/)
      expect(r.headers.get('cache-control')).toBe('no-store')
      const scripts = [...r.text.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!)
      expect(scripts.length).toBeGreaterThan(0)
      for (const attrs of scripts) expect(attrs).toMatch(/\ssrc="\/dashboard\/assets\//)
      expect(eventHandlerAttributes(r.text)).toEqual([])
    }
  })

  it("keeps the e-mail's remote images out of the click map: images from this origin and data: only, none at all in the frame", async () => {
    await s.api('POST', '/v1/campaigns', { id: 'remote-img', name: 'Remote images' })
    const html = '<!DOCTYPE html><html><head><title>x</title></head><body><img src="https://images.example/open.gif"><a href="https://shop.example/">Shop</a></body></html>'
    expect((await s.api('POST', '/v1/campaigns/remote-img/templates', { html })).status).toBe(201)
    const r = await get('/dashboard/campaigns/remote-img')
    const directives = new Map(r.headers.get('content-security-policy')!.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...v]) => [name!, v]))
    expect(directives.get('img-src')).toEqual(["'self'", 'data:'])
    expect(directives.get('default-src')).toEqual(["'none'"])
    const srcdoc = unescape(/<iframe class="clickmap"[^>]*srcdoc="([^"]*)"/.exec(r.text)![1]!)
    // The frame's own policy comes right after the doctype, which stays first (no quirks mode).
    expect(srcdoc).toMatch(/^<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'">/)
    // Not even pointed at: the image is a placeholder in the frame.
    expect(srcdoc).not.toContain('images.example')
    expect(srcdoc).toContain('<body><img src="data:image/svg+xml,')
    expect(r.text).toContain('Remote images are not loaded')
  })

  it('serves the chart library and its own script with cache headers', async () => {
    for (const name of ['uPlot.iife.min.js', 'uPlot.min.css', 'dashboard.js', 'dashboard.css']) {
      const r = await fetch(`${s.url}/dashboard/assets/${name}`)
      expect(r.status).toBe(200)
      expect(r.headers.get('cache-control')).toContain('max-age=')
      expect((await r.text()).length).toBeGreaterThan(100)
    }
    expect((await fetch(`${s.url}/dashboard/assets/..%2F..%2Fpackage.json`)).status).toBe(404)
  })

  it('escapes campaign names, labels, URLs and recipient ids everywhere', async () => {
    const list = await get('/dashboard')
    expect(list.text).not.toContain(XSS_NAME)
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    const page = await get('/dashboard/campaigns/xss')
    expect(page.status).toBe(200)
    expect(page.text).not.toContain(XSS_NAME)
    expect(page.text).not.toContain('<img src=x')
    expect(page.text).not.toContain('<script>alert(3)')
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    const compare = await get('/dashboard/compare?campaigns=spring&campaigns=xss')
    expect(compare.text).not.toContain(XSS_NAME)
    const recipient = await get(`/dashboard/recipients?id=${encodeURIComponent('<b>bob</b>')}`)
    expect(recipient.text).not.toContain('<b>bob</b>')
    expect(recipient.text).toContain('&lt;b&gt;bob&lt;/b&gt;')
  })

  it('shows the headline numbers the API gives, for each traffic choice', async () => {
    for (const traffic of ['human', 'machine', 'all']) {
      const api = (await s.api('GET', `/v1/campaigns/spring/stats?traffic=${traffic}`)).body
      const html = (await get(`/dashboard/campaigns/spring?traffic=${traffic}`)).text
      expect(card(html, 'sent')).toBe(fmtInt(api.sent))
      expect(card(html, 'unique-openers')).toBe(fmtInt(api.opens.unique))
      expect(card(html, 'unique-clickers')).toBe(fmtInt(api.clicks.unique))
      expect(card(html, 'open-rate')).toBe(fmtPct(api.rates.open.value))
      expect(card(html, 'click-rate')).toBe(fmtPct(api.rates.click.value))
      expect(card(html, 'unsubscribes')).toBe(fmtInt(api.unsubscribes.unique))
      expect(card(html, 'machine-opens')).toBe(fmtInt(api.machine.opens.total))
      expect(card(html, 'scanner-clicks')).toBe(fmtInt(api.machine.clicks.total))
      expect(html).toMatch(new RegExp(`href="[^"]*traffic=${traffic}[^"]*" aria-current="true"`))
    }
    const human = (await s.api('GET', '/v1/campaigns/spring/stats')).body
    expect(human.sent).toBe(80)
    expect(human.opens.unique).toBeGreaterThan(40)
    expect(human.machine.opens.total).toBe(5)
    expect(human.machine.clicks.total).toBe(1)
    // In plain words, with the reasons named as a person names them.
    const all = human.opens.total + 5
    const page = (await get('/dashboard/campaigns/spring')).text
    expect(page).toContain(`<p id="machine-summary" class="muted">${Math.round((5 / all) * 100)}% of opens were machines (5 of ${all}: Apple Mail Privacy Protection 5); ${Math.round((1 / (human.clicks.total + 1)) * 100)}% of clicks were machines (1 of ${human.clicks.total + 1}: security scanners (address) 1).`)
  })

  it('answers an unknown campaign with a page, escaped', async () => {
    const r = await get(`/dashboard/campaigns/${encodeURIComponent('<i>nope</i>')}`)
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toContain('text/html')
    expect(r.text).toContain('campaign &lt;i&gt;nope&lt;/i&gt; not found')
  })

  it('answers refused requests with an HTML page in the dashboard layout, status and message kept; the API keeps JSON', async () => {
    const api = {
      cursor: await s.api('GET', '/v1/recipients/r01/timeline?cursor=garbage'),
      filter: await s.api('GET', '/v1/campaigns/spring/audience?opened=maybe'),
      link: await s.api('GET', '/v1/campaigns/spring/audience?clicked=nolink'),
      campaign: await s.api('GET', '/v1/campaigns/nope/audience'),
    }
    const cases = [
      ['/dashboard/recipients?id=r01&cursor=garbage', 400, api.cursor],
      ['/dashboard/campaigns/spring/audience.csv?opened=maybe', 400, api.filter],
      ['/dashboard/campaigns/spring/audience.csv?clicked=nolink', 400, api.link],
      ['/dashboard/campaigns/nope/audience.csv', 404, api.campaign],
      ['/dashboard/campaigns/nope', 404, null],
      ['/dashboard/no-such-page', 404, null],
    ] as const
    for (const [path, status, fromApi] of cases) {
      const r = await get(path)
      expect(r.status, path).toBe(status)
      expect(r.headers.get('content-type'), path).toMatch(/^text\/html/)
      expect(r.headers.get('content-disposition'), path).toBeNull()
      expect(r.headers.get('content-security-policy'), path).toContain("default-src 'none'")
      expect(r.text, path).toMatch(/^<!DOCTYPE html>/)
      expect(r.text, path).not.toContain('{"error"')
      // The dashboard's layout, signed in: the navigation and the sign-out form.
      expect(r.text, path).toContain('<a href="/dashboard/compare">Compare</a>')
      expect(r.text, path).toContain('action="/dashboard/sign-out"')
      const message = unescape(/<p class="error" role="alert" id="error-message">([^<]*)<\/p>/.exec(r.text)?.[1] ?? '')
      expect(message, path).not.toBe('')
      if (fromApi) {
        // The API answers the same request with JSON, the same status and the same message.
        expect(fromApi.status, path).toBe(status)
        expect(fromApi.headers.get('content-type')).toMatch(/^application\/json/)
        expect(message, path).toBe(fromApi.body.error.message)
      }
    }
    expect(unescape((await get('/dashboard/recipients?id=r01&cursor=garbage')).text)).toContain('query.cursor: not a cursor')
    const missing = await s.api('GET', '/v1/campaigns/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('not_found')
  })

  it('lists campaigns with the rates the API gives', async () => {
    const api = (await s.api('GET', '/v1/campaigns/spring/stats')).body
    const html = (await get('/dashboard')).text
    const row = /<tr data-campaign-id="spring">([\s\S]*?)<\/tr>/.exec(html)![1]!
    expect(row).toContain(`data-col="sent">${fmtInt(api.sent)}<`)
    expect(row).toContain(`data-col="open-rate">${fmtPct(api.rates.open.value)}<`)
    expect(row).toContain(`data-col="click-rate">${fmtPct(api.rates.click.value)}<`)
  })

  it('tabulates links as the API does, sorted on the server by clicks or unique clickers', async () => {
    const api = (await s.api('GET', '/v1/campaigns/spring/links/stats')).body.links as Array<{ linkId: string; clicks: number; uniqueClickers: number; position: number }>
    for (const sort of ['clicks', 'unique', 'position'] as const) {
      const html = (await get(`/dashboard/campaigns/spring?sort=${sort}`)).text
      const table = /<table id="links-table">([\s\S]*?)<\/table>/.exec(html)![1]!
      const rows = [...table.matchAll(/<tr data-link-id="([^"]+)">[\s\S]*?data-col="clicks">([^<]+)<[\s\S]*?data-col="unique">([^<]+)</g)].map((m) => ({ id: m[1]!, clicks: m[2]!, unique: m[3]! }))
      expect(rows).toHaveLength(api.length)
      for (const r of rows) {
        const a = api.find((l) => l.linkId === r.id)!
        expect(r.clicks).toBe(fmtInt(a.clicks))
        expect(r.unique).toBe(fmtInt(a.uniqueClickers))
      }
      const key = sort === 'clicks' ? 'clicks' : sort === 'unique' ? 'uniqueClickers' : 'position'
      const values = rows.map((r) => api.find((l) => l.linkId === r.id)![key])
      expect(values).toEqual([...values].sort((x, y) => (sort === 'position' ? x - y : y - x)))
      expect(table).toMatch(new RegExp(`aria-sort="(descending|ascending)"><a href="[^"]*sort=${sort}`))
    }
  })

  it('draws the click map: the e-mail in a sandboxed frame, destinations, one badge per link with its share', async () => {
    const html = (await get('/dashboard/campaigns/spring')).text
    const m = /<iframe class="clickmap"([^>]*)>/.exec(html)!
    expect(m[1]).toContain('sandbox="allow-same-origin"')
    const srcdoc = unescape(/srcdoc="([^"]*)"/.exec(m[1]!)![1]!)
    const api = (await s.api('GET', '/v1/campaigns/spring/links/stats')).body.links as Array<{ linkId: string; clicks: number; url: string; position: number }>
    const total = api.reduce((n, l) => n + l.clicks, 0)
    const badges = [...srcdoc.matchAll(/<span class="sillage-badge" data-position="(\d+)"[^>]*>([^<]*)<\/span>/g)]
    expect(badges).toHaveLength(seeded.links.length)
    for (const [, pos, text] of badges) {
      const l = api.find((x) => x.position === Number(pos))!
      const share = l.clicks / total
      expect(unescape(text!)).toBe(`${l.clicks} · ${share === 0 ? '0%' : share < 0.1 ? `${(share * 100).toFixed(1)}%` : `${Math.round(share * 100)}%`}`)
    }
    expect(srcdoc).toContain('href="https://shop.example/new"')
    expect(srcdoc).not.toContain(`${s.url}/c/`)
    expect(srcdoc).not.toContain(`${s.url}/o/`)
    // The label with markup stays text inside the e-mail, and the badge comes right after its link.
    expect(srcdoc).not.toContain('<img src=x')
    expect(srcdoc).toMatch(/<\/a><span class="sillage-badge" data-position="1"/)
    // The heat scale: the most clicked link is the deepest red, a link nobody clicked grey.
    const most = api.reduce((a, b) => (b.clicks > a.clicks ? b : a))
    expect(srcdoc).toMatch(new RegExp(`data-position="${most.position}"[^>]*background:rgb\\(140,29,24\\)`))
  })

  it('states the variant verdict from the compare function and shows segments with intervals', async () => {
    const cmp = (await s.api('GET', '/v1/campaigns/spring/compare?by=variant')).body
    const html = (await get('/dashboard/campaigns/spring')).text
    const verdict = unescape(/<p class="verdict" id="variant-verdict"><strong>([^<]*)<\/strong>/.exec(html)![1]!)
    if (cmp.test.winner) expect(verdict).toMatch(new RegExp(`^${cmp.test.winner} beats (A|B) on click rate, [+−][0-9.]+ points \\([+−]?[0-9.]+ to [+−]?[0-9.]+\\), significant \\(p [=<] `))
    else expect(verdict).toMatch(/^(A|B) leads on click rate, [+−][0-9.]+ points \([+−]?[0-9.]+ to [+−]?[0-9.]+\), not (significant|enough data)|^No difference in click rate/)
    expect(html).toContain('id="variants-table"')
    expect(html).toContain('id="segments-table"')
    expect(html).toMatch(/role="img" aria-label="Click rate of B: [\d.]+% \(95% interval [\d.]+% to [\d.]+%\)"/)
    expect(html).toContain('id="heat-opens"')
    expect(html).toContain('id="series-table"')
  })

  it('exports the audience as the API does, with the session instead of a bearer key', async () => {
    const link = seeded.links[0]!.id
    const mine = await get(`/dashboard/campaigns/spring/audience.csv?clicked=${link}&opened=&segment=vip&variant=`)
    expect(mine.status).toBe(200)
    expect(mine.headers.get('content-type')).toContain('text/csv')
    expect(mine.headers.get('content-disposition')).toBe('attachment; filename="spring-audience.csv"')
    const api = await s.api('GET', `/v1/campaigns/spring/audience?clicked=${link}&segment=vip`, undefined, { accept: 'text/csv' })
    // The same rows; for people, clicked links by label and position rather than opaque ids.
    const links = (await s.api('GET', '/v1/campaigns/spring/links')).body.links as Array<{ id: string; label: string; url: string; position: number }>
    let named = api.body as string
    for (const l of links) named = named.replaceAll(l.id, `${l.label || l.url} (#${l.position})`)
    expect(mine.text).toBe(named)
    expect(named).not.toBe(api.body)
    expect(mine.text.split('\r\n').length).toBeGreaterThan(3)
    const bad = await get('/dashboard/campaigns/spring/audience.csv?clicked=nope')
    expect(bad.status).toBe(400)
    const anonymous = await fetch(`${s.url}/dashboard/campaigns/spring/audience.csv`, { redirect: 'manual' })
    expect(anonymous.status).toBe(303)
  })

  it('finds recipients by the beginning of their id, and lists the recently active', async () => {
    const recent = (await get('/dashboard/recipients')).text
    const ids = [...recent.matchAll(/<tr>\s*<th scope="row"><a href="\/dashboard\/recipients\?id=([^&]+)&amp;traffic=human">/g)].map((m) => decodeURIComponent(m[1]!))
    // The seed's readers opened and clicked minutes ago: the latest first, each once.
    expect(ids.length).toBeGreaterThan(0)
    expect(new Set(ids).size).toBe(ids.length)
    // Shown as 2026-12-05 14:03 (the one format), the exact instant in the element, newest first.
    const times = [...recent.matchAll(/<td><time datetime="([^"]+)"[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d<\/time><\/td>/g)].map((m) => m[1]!)
    expect(times).toHaveLength(ids.length)
    expect(times).toEqual([...times].sort().reverse())
    const found = (await get('/dashboard/recipients?id=r0')).text
    const list = found.slice(found.indexOf('<ul id="found-recipients">'), found.indexOf('</ul>', found.indexOf('<ul id="found-recipients">')))
    expect([...list.matchAll(/>(r0\d)<\/a>/g)].map((m) => m[1])).toEqual(Array.from({ length: 10 }, (_, i) => `r0${i}`))
    expect(found).not.toContain('id="h-timeline"')
    expect((await get('/dashboard/recipients?id=r01')).text).toContain('id="h-timeline"')
  })

  it('shows times in a time zone chosen on the page, and remembers it for this browser', async () => {
    const chosen = await get('/dashboard/campaigns/spring?tz=europe/paris')
    const set = chosen.headers.get('set-cookie')!
    expect(set).toMatch(/^sillage_tz=Europe%2FParis; Max-Age=31536000; Path=\/dashboard; HttpOnly; SameSite=Strict/)
    expect(chosen.text).toContain('<option value="Europe/Paris" selected="">Europe/Paris</option>')
    const later = await get('/dashboard/campaigns/spring', { cookie: `${cookie}; ${set.split(';')[0]}` })
    expect(later.text).toContain('When people react (Europe/Paris)')
    expect(later.headers.get('set-cookie')).toBeNull()
    // Without the cookie: UTC, the default.
    expect((await get('/dashboard/campaigns/spring')).text).toContain('When people react (UTC)')
  })

  it('lists campaigns with their first send and unsubscribes, sortable by column', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'unsub', name: 'Zz unsubscribed' })
    const sent = await s.api('POST', '/v1/campaigns/unsub/sends', { sentAt: '2026-01-02T03:04:00Z', recipients: [{ id: 'u1' }, { id: 'u2' }] })
    const token = new URL(sent.body.recipients[0].pixelUrl).pathname.split('/').pop()!.replace('.gif', '')
    const r = await fetch(`${s.url}/u/unsub/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })
    expect(r.status).toBeLessThan(400)
    await s.flush()
    const html = (await get('/dashboard?sort=unsubscribes')).text
    const first = /<tbody>\s*<tr data-campaign-id="([^"]+)">/.exec(html)![1]
    expect(first).toBe('unsub')
    const row = html.slice(html.indexOf('data-campaign-id="unsub"'), html.indexOf('</tr>', html.indexOf('data-campaign-id="unsub"')))
    // One time format on every page, in the remembered zone (UTC by default), the zone in the heading.
    expect(row).toMatch(/<td data-col="sent-at"><time datetime="2026-01-02T03:04[^"]*" title="2026-01-02 03:04:00 UTC">2026-01-02 03:04<\/time><\/td>/)
    expect(html).toContain('First sent (UTC)')
    const paris = (await get('/dashboard?sort=unsubscribes', { cookie: `${cookie}; sillage_tz=Europe%2FParis` })).text
    expect(paris).toContain('First sent (Europe/Paris)')
    expect(paris).toMatch(/data-col="sent-at"><time [^>]*>2026-01-02 04:04<\/time>/)
    expect(row).toContain('<td class="num" data-col="unsubscribes">1</td>')
    expect(html).toContain('<th scope="col" aria-sort="descending"><a href="/dashboard?traffic=human&amp;sort=unsubscribes">Unsubscribes</a></th>')
    const byName = (await get('/dashboard?sort=name')).text
    const names = [...byName.matchAll(/<tr data-campaign-id="[^"]+">\s*<th scope="row"><a [^>]+>([^<]+)<\/a>/g)].map((m) => m[1]!)
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)))
    expect(names.at(-1)).toBe('Zz unsubscribed')
  })

  it('sums links to the same destination, as the API\'s byUrl does, and tells repeated labels apart by position', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'dup', name: 'Duplicates' })
    const t = await s.api('POST', '/v1/campaigns/dup/templates', {
      html: '<body><a href="https://shop.example/p"><img alt="Shop"></a><a href="https://shop.example/p">Shop</a><a href="https://shop.example/q">Shop</a></body>',
    })
    const sent = await s.api('POST', '/v1/campaigns/dup/sends', { recipients: [{ id: 'a' }, { id: 'b' }] })
    for (const r of sent.body.recipients) for (const l of r.links.slice(0, r.id === 'a' ? 2 : 1)) await (await readerFetch(l.url)).arrayBuffer()
    await s.flush()
    const api = (await s.api('GET', '/v1/campaigns/dup/links/stats')).body
    const p = api.byUrl.find((u: { url: string }) => u.url === 'https://shop.example/p')
    const html = (await get('/dashboard/campaigns/dup')).text
    const table = html.slice(html.indexOf('id="destinations-table"'), html.indexOf('</table>', html.indexOf('id="destinations-table"')))
    expect(table).toContain(`<td class="url">https://shop.example/p</td><td>Shop (#1), Shop (#2)</td><td class="num">${p.clicks}</td><td class="num">${p.uniqueClickers}</td>`)
    expect(p).toMatchObject({ clicks: 3, uniqueClickers: 2 })
    expect(t.body.links.map((l: { position: number }) => l.position)).toEqual([1, 2, 3])
    // The export form names each link by label and position.
    expect(html).toContain('>Shop (#3)</option>')
  })

  it('shows the follow-up list before download: the API audience\'s count, rows opening the timeline, the filter in words', async () => {
    const link = seeded.links[0]!.id
    const api = (await s.api('GET', `/v1/campaigns/spring/audience?clicked=${link}&converted=false&convertedWithin=7d`)).body as string
    const expected = api.split('\n').filter(Boolean).map((l) => JSON.parse(l).recipientId as string)
    expect(expected.length).toBeGreaterThan(0)
    const r = await get(`/dashboard/campaigns/spring/follow-up?clicked=${link}&converted=false&convertedWithinDays=7&opened=`)
    expect(r.status).toBe(200)
    expect(r.text).toContain(`<strong id="follow-up-count">${expected.length}</strong>`)
    for (const id of expected) expect(r.text).toContain(`<a href="/dashboard/recipients?id=${encodeURIComponent(id)}">${id}</a>`)
    expect(r.text).toMatch(/<p id="follow-up-filter">clicked [^<]+ \(#\d+\), did not buy within 7 days of the send\.<\/p>/)
    expect(r.text).toContain(`href="/dashboard/campaigns/spring/audience.csv?clicked=${link}&amp;converted=false&amp;convertedWithinDays=7&amp;opened="`)
    const csv = await get(`/dashboard/campaigns/spring/audience.csv?clicked=${link}&converted=false&convertedWithinDays=7&opened=`)
    expect(csv.text.trim().split('\r\n').length - 1).toBe(expected.length)
    const campaign = (await get('/dashboard/campaigns/spring')).text
    expect(campaign).toContain(`href="/dashboard/campaigns/spring/follow-up?clicked=${link}&amp;converted=false&amp;convertedWithinDays=7&amp;traffic=human"`)
    expect((await get('/dashboard/campaigns/spring/follow-up?convertedWithinDays=week')).status).toBe(400)
  })

  it('filters the export by attribute and by an event window read in the page time zone, as the API does', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'attrs', name: 'Attributes' })
    const sent = await s.api('POST', '/v1/campaigns/attrs/sends', {
      recipients: [
        { id: 'fr1', attributes: { country: 'FR' } },
        { id: 'de1', attributes: { country: 'DE' } },
      ],
    })
    for (const r of sent.body.recipients) await (await readerFetch(r.pixelUrl)).arrayBuffer()
    await s.flush()
    const form = (await get('/dashboard/campaigns/attrs?tz=Europe/Paris')).text
    expect(form).toMatch(/<input type="hidden" name="tz" value="Europe\/Paris"/)
    expect(form).toMatch(/<input type="datetime-local" name="from"/)
    expect(form).toMatch(/<input type="datetime-local" name="to"/)
    expect(form).toMatch(/<input type="text" name="attribute"/)

    const csv = (path: string) => get(`/dashboard/campaigns/attrs/audience.csv?${path}`).then((r) => r.text)
    const apiCsv = (path: string) => s.api('GET', `/v1/campaigns/attrs/audience?${path}`, undefined, { accept: 'text/csv' }).then((r) => r.body as string)
    const fr = await csv('attribute=country%3AFR&opened=true')
    expect(fr).toBe(await apiCsv('attribute=country:FR&opened=true'))
    expect(fr).toMatch(/\r\nfr1,/)
    expect(fr).not.toContain('de1')

    // The form's wall time is read in the page's zone (the conversion itself: helpers.test.ts).
    const opensFrom = (q: string) => csv(`opened=true&${q}`).then((t) => t.split('\r\n').filter((l) => /^(fr1|de1),/.test(l)).length)
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16)
    expect(await opensFrom(`from=${tomorrow}&tz=UTC`)).toBe(0)
    expect(await csv(`opened=true&from=${tomorrow}&tz=UTC`)).toBe(await apiCsv(`opened=true&from=${tomorrow}:00Z`))
    expect(await opensFrom('from=2020-01-01T10:00&to=2099-01-01T00:00&tz=Europe/Paris')).toBe(2)
    const paris = await csv(`opened=true&from=2020-01-01T10:00&tz=Europe/Paris`)
    expect(paris).toBe(await apiCsv('opened=true&from=2020-01-01T09:00:00Z'))

    expect((await get('/dashboard/campaigns/attrs/audience.csv?from=soon')).status).toBe(400)
    expect((await get('/dashboard/campaigns/attrs/audience.csv?from=2026-02-01T00:00&to=2026-01-01T00:00')).status).toBe(400)
    expect((await get('/dashboard/campaigns/attrs/audience.csv?attribute=nocolon')).status).toBe(400)
  })

  it('selects the same people as the API for the same filter, through the same parser: attribute values exact, spaces and commas included', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'spaces', name: 'Spaces' })
    const link = (await s.api('POST', '/v1/campaigns/spaces/links', { url: 'https://shop.example/' })).body.id as string
    const sent = await s.api('POST', '/v1/campaigns/spaces/sends', {
      recipients: [
        { id: 'plain', attributes: { city: 'Paris' } },
        { id: 'spaced', attributes: { city: ' Paris ' } },
        { id: 'comma', attributes: { city: 'Paris, France' } },
      ],
    })
    expect(sent.status).toBe(201)
    await readerClick(sent.body.recipients.find((r: { id: string }) => r.id === 'spaced').links[0].url)
    await s.flush()
    const people = (csv: string) => csv.split('\r\n').slice(1).filter(Boolean).map((l) => l.split(',')[0])
    const both = async (query: string) => {
      const mine = await get(`/dashboard/campaigns/spaces/audience.csv?${query}`)
      const api = await s.api('GET', `/v1/campaigns/spaces/audience?${query}`, undefined, { accept: 'text/csv' })
      expect(mine.status, query).toBe(200)
      expect(api.status, query).toBe(200)
      // Clicked links by name for people, by id for programs: the only difference.
      expect(mine.text, query).toBe((api.body as string).replaceAll(link, 'https://shop.example/ (#1)'))
      return people(mine.text)
    }
    expect(await both(`attribute=${encodeURIComponent('city: Paris ')}`)).toEqual(['spaced'])
    expect(await both(`attribute=${encodeURIComponent('city:Paris')}`)).toEqual(['plain'])
    expect(await both(`attribute=${encodeURIComponent('city:Paris, France')}`)).toEqual(['comma'])
    // Link ids are trimmed and comma-separated alike on both sides (ids hold neither).
    expect(await both(`clicked=${encodeURIComponent(` ${link} `)}`)).toEqual(['spaced'])
    expect(await both(`notClicked=${encodeURIComponent(`${link}, `)}&opened=false`)).toEqual(['comma', 'plain'])
    expect((await s.api('GET', '/v1/campaigns/spaces/audience?opened=maybe')).status).toBe(400)
    expect((await get('/dashboard/campaigns/spaces/audience.csv?opened=maybe')).status).toBe(400)
  })

  it('compares campaigns side by side with the test result', async () => {
    const html = (await get('/dashboard/compare?campaigns=spring&campaigns=xss&metric=open_rate')).text
    const api = (await s.api('GET', '/v1/compare?campaigns=spring,xss&metric=open_rate')).body
    expect(html).toContain('id="compare-table"')
    for (const r of api.rows) expect(html).toContain(`${fmtInt(r.successes)} / ${fmtInt(r.trials)}`)
    expect(html).toMatch(/id="compare-verdict"><strong>(.* leads on .* points|No difference in|.* beats .* significant)/)
    expect((await get('/dashboard/compare?campaigns=spring&campaigns=nope')).status).toBe(400)
  })

  it('shows a recipient timeline, newest first', async () => {
    const api = (await s.api('GET', '/v1/recipients/r01/timeline')).body
    const html = (await get('/dashboard/recipients?id=r01')).text
    const rows = [...html.matchAll(/<tr><td><time [^>]*>\d{4}-\d\d-\d\d \d\d:\d\d<\/time><\/td><td>([^<]+)<\/td>/g)].map((m) => m[1])
    expect(rows).toEqual(api.events.map((e: { type: string }) => e.type))
    expect(rows.length).toBeGreaterThan(0)
  })
})

describe('compare page with many campaigns', () => {
  it('compares campaigns beyond the 200 oldest, and offers the newest first', async () => {
    for (let i = 0; i < 201; i++) expect((await s.api('POST', '/v1/campaigns', { id: `bulk-${i}`, name: `Bulk ${i}` })).status).toBe(201)
    const r = await get('/dashboard/compare?campaigns=bulk-200&campaigns=spring&metric=open_rate')
    expect(r.status).toBe(200)
    expect(r.text).toContain('id="compare-table"')
    // The REST compare takes them too, checked with one query.
    expect((await s.api('GET', '/v1/compare?campaigns=bulk-200,spring&metric=open_rate')).status).toBe(200)
    const missing = await s.api('GET', '/v1/compare?campaigns=bulk-200,nope,nada')
    expect(missing.status).toBe(404)
    expect(missing.body.error.message).toBe('campaigns nope, nada not found')
  })
})
