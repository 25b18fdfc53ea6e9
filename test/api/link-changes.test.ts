import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSillage } from '../../src/sdk/index.js'
import { loadOrCreateSecret } from '../../src/tracking/token.js'
import { signIn } from '../dashboard/seed.js'
import { ADMIN_KEY, BROWSER_UA, readerFetch, startTestServer, type TestServer } from '../support/server.js'

let s: TestServer

beforeAll(async () => {
  s = await startTestServer()
})
afterAll(async () => {
  await s.stop()
})

/** One reader's click: status, Location and body. */
async function click(url: string) {
  const r = await readerFetch(url)
  return { status: r.status, location: r.headers.get('location'), body: await r.text() }
}

/** A click sent to this server with another Host header (fetch cannot set one). */
function clickOnHost(trackedUrl: string, host: string): Promise<{ status: number; location: string | undefined }> {
  const u = new URL(trackedUrl)
  const port = Number(new URL(s.url).port)
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: u.pathname, headers: { host, 'user-agent': BROWSER_UA } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function byUrl(campaign: string): Promise<Record<string, { clicks: number; linkIds: string[] }>> {
  await s.flush()
  const r = await s.api('GET', `/v1/campaigns/${campaign}/links/stats?traffic=all`)
  expect(r.status).toBe(200)
  return Object.fromEntries(r.body.byUrl.map((u: { url: string; clicks: number; linkIds: string[] }) => [u.url, { clicks: u.clicks, linkIds: u.linkIds }]))
}

describe('PATCH /v1/campaigns/:id/links/:linkId', () => {
  it('sends clicks to the new URL from then on, counting each under the URL it went to, with the change in the history', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'typo', name: 'Typo' })
    const link = (await s.api('POST', '/v1/campaigns/typo/links', { url: 'https://shop.example/sprnig', label: 'hero' })).body
    const sends = (await s.api('POST', '/v1/campaigns/typo/sends', { recipients: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] })).body.recipients
    const urlOf = (i: number) => sends[i].links[0].url as string

    expect(await click(urlOf(0))).toMatchObject({ status: 302, location: 'https://shop.example/sprnig' })
    const patched = await s.api('PATCH', `/v1/campaigns/typo/links/${link.id}`, { url: 'https://shop.example/spring' })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ id: link.id, url: 'https://shop.example/spring', version: 1, disabled: false, originalUrl: 'https://shop.example/sprnig' })
    expect(await click(urlOf(1))).toMatchObject({ status: 302, location: 'https://shop.example/spring' })
    expect(await click(urlOf(2))).toMatchObject({ status: 302, location: 'https://shop.example/spring' })

    const urls = await byUrl('typo')
    expect(urls['https://shop.example/sprnig']).toEqual({ clicks: 1, linkIds: [link.id] })
    expect(urls['https://shop.example/spring']).toEqual({ clicks: 2, linkIds: [link.id] })
    const stats = (await s.api('GET', '/v1/campaigns/typo/links/stats?traffic=all')).body
    expect(stats.links).toEqual([expect.objectContaining({ linkId: link.id, clicks: 3, uniqueClickers: 3, version: 1, url: 'https://shop.example/spring' })])

    // The same change again records nothing.
    expect((await s.api('PATCH', `/v1/campaigns/typo/links/${link.id}`, { url: 'https://shop.example/spring' })).body.version).toBe(1)
    const history = await s.api('GET', `/v1/campaigns/typo/links/${link.id}/history`)
    expect(history.status).toBe(200)
    expect(history.body.changes).toEqual([
      { version: 1, at: expect.any(String), apiKeyId: 'admin', oldUrl: 'https://shop.example/sprnig', newUrl: 'https://shop.example/spring', disabled: false, fallbackUrl: null },
    ])

    // The dashboard's link table says so.
    const { cookie } = await signIn(s, ADMIN_KEY)
    const page = await fetch(`${s.url}/dashboard/campaigns/typo`, { headers: { cookie } })
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/class="changed"[^>]*>changed</)
  })

  it('refuses what creation refuses, and unknown links', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'bad', name: 'Bad' })
    const link = (await s.api('POST', '/v1/campaigns/bad/links', { url: 'https://shop.example/a' })).body
    const patch = (body: unknown, id = link.id) => s.api('PATCH', `/v1/campaigns/bad/links/${id}`, body)
    for (const body of [{ url: 'javascript:alert(1)' }, { url: 'not a url' }, { url: '/relative' }, { fallbackUrl: 'ftp://x.example/' }, {}, { url: 'https://x.example', other: 1 }]) {
      const r = await patch(body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.code).toBe('validation_failed')
    }
    expect((await patch({ url: 'https://shop.example/b' }, 'nope')).status).toBe(404)
    expect((await s.api('PATCH', `/v1/campaigns/typo/links/${link.id}`, { url: 'https://shop.example/b' })).status).toBe(404)
    expect((await s.api('GET', `/v1/campaigns/bad/links/${link.id}/history`)).body.changes).toEqual([])
  })

  it('a retired link records the click and answers its fallback, the campaign\'s, or the "offer ended" page', async () => {
    await s.api('POST', '/v1/campaigns', { id: 'promo', name: 'Promo', settings: { fallbackUrl: 'https://shop.example/all-offers' } })
    await s.api('POST', '/v1/campaigns', { id: 'plain', name: 'Plain' })
    const promo = (await s.api('POST', '/v1/campaigns/promo/links', { url: 'https://shop.example/black-friday' })).body
    const plain = (await s.api('POST', '/v1/campaigns/plain/links', { url: 'https://shop.example/flash' })).body
    const [p] = (await s.api('POST', '/v1/campaigns/promo/sends', { recipients: [{ id: 'r' }] })).body.recipients
    const [q] = (await s.api('POST', '/v1/campaigns/plain/sends', { recipients: [{ id: 'r' }] })).body.recipients

    const own = await s.api('PATCH', `/v1/campaigns/promo/links/${promo.id}`, { disabled: true, fallbackUrl: 'https://shop.example/next-sale' })
    expect(own.body).toMatchObject({ disabled: true, fallbackUrl: 'https://shop.example/next-sale', url: 'https://shop.example/black-friday' })
    expect(await click(p.links[0].url)).toMatchObject({ status: 302, location: 'https://shop.example/next-sale' })
    await s.api('PATCH', `/v1/campaigns/promo/links/${promo.id}`, { fallbackUrl: null })
    expect(await click(p.links[0].url)).toMatchObject({ status: 302, location: 'https://shop.example/all-offers' })

    await s.api('PATCH', `/v1/campaigns/plain/links/${plain.id}`, { disabled: true })
    const ended = await click(q.links[0].url)
    expect(ended.status).toBe(410)
    expect(ended.body).toContain('This offer has ended')
    await s.api('PATCH', `/v1/campaigns/plain/links/${plain.id}`, { disabled: false })
    expect(await click(q.links[0].url)).toMatchObject({ status: 302, location: 'https://shop.example/flash' })

    expect(await byUrl('promo')).toEqual({
      'https://shop.example/black-friday': { clicks: 0, linkIds: [promo.id] },
      'https://shop.example/next-sale': { clicks: 1, linkIds: [promo.id] },
      'https://shop.example/all-offers': { clicks: 1, linkIds: [promo.id] },
    })
    expect(await byUrl('plain')).toEqual({
      'https://shop.example/flash': { clicks: 1, linkIds: [plain.id] },
      '': { clicks: 1, linkIds: [plain.id] },
    })
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
    expect(metrics).toMatch(/sillage_http_responses_total\{route="click",status="410"\} 1\b/)
  })
})

describe('tracking domains', () => {
  it('two campaigns on two domains render their own URLs, a click on each host lands, an unknown host still redirects and is counted', async () => {
    expect((await s.api('POST', '/v1/domains', { host: 'Click.Brand-A.example' })).status).toBe(201)
    const b = await s.api('POST', '/v1/domains', { host: 'click.brand-b.example', default: true })
    expect(b.body).toMatchObject({ host: 'click.brand-b.example', default: true, baseUrl: 'https://click.brand-b.example' })
    expect((await s.api('POST', '/v1/domains', { host: 'click.brand-a.example' })).status).toBe(409)
    for (const host of ['https://x.example', 'x.example:8443', 'nodot', 'a..example', 'x.example/path']) {
      expect((await s.api('POST', '/v1/domains', { host })).status, host).toBe(400)
    }
    const unknown = await s.api('POST', '/v1/campaigns', { id: 'nodomain', name: 'x', settings: { trackingDomain: 'click.other.example' } })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toContain('settings.trackingDomain')

    expect((await s.api('POST', '/v1/campaigns', { id: 'brand-a', name: 'A', settings: { trackingDomain: 'click.brand-a.example' } })).status).toBe(201)
    expect((await s.api('POST', '/v1/campaigns', { id: 'brand-b', name: 'B' })).status).toBe(201)
    const html = '<html><body><a href="https://brand.example/shoes">Shoes</a></body></html>'
    const result: Record<string, { click: string; pixel: string; rendered: string; unsubscribe: string; sdk: string }> = {}
    const secret = loadOrCreateSecret(s.deps.config.dataDir, s.deps.config.trackerSecret)
    const sdk = createSillage({ secret, publicBaseUrl: s.url })
    for (const id of ['brand-a', 'brand-b']) {
      const t = await s.api('POST', `/v1/campaigns/${id}/templates`, { html })
      expect(t.status).toBe(201)
      const [r] = (await s.api('POST', `/v1/campaigns/${id}/sends`, { recipients: [{ id: 'dupond' }] })).body.recipients
      const rendered = (await s.api('POST', `/v1/campaigns/${id}/render`, { recipients: [{ id: 'durand' }] })).body.recipients[0]
      result[id] = {
        click: r.links[0].url,
        pixel: r.pixelUrl,
        rendered: rendered.html,
        unsubscribe: rendered.headers['List-Unsubscribe'],
        sdk: sdk.renderer((await s.api('GET', `/v1/campaigns/${id}/templates/${t.body.id}`)).body)('durand').html,
      }
    }
    for (const [id, host] of [['brand-a', 'click.brand-a.example'], ['brand-b', 'click.brand-b.example']] as const) {
      const r = result[id]!
      expect(r.click.startsWith(`https://${host}/c/`)).toBe(true)
      expect(r.pixel.startsWith(`https://${host}/o/${id}/`)).toBe(true)
      expect(r.rendered).toContain(`href="https://${host}/c/`)
      expect(r.unsubscribe.startsWith(`<https://${host}/u/${id}/`)).toBe(true)
      expect(r.sdk).toBe(r.rendered)
      expect(await clickOnHost(r.click, host)).toEqual({ status: 302, location: 'https://brand.example/shoes' })
    }

    const unknownHosts = async () => Number(/sillage_edge_unknown_host_requests_total (\d+)/.exec(await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text())![1])
    const before = await unknownHosts()
    expect(await clickOnHost(result['brand-a']!.click, 'click.brand-a.example:443')).toMatchObject({ status: 302 })
    expect(await unknownHosts()).toBe(before)
    expect(await clickOnHost(result['brand-a']!.click, 'elsewhere.example')).toEqual({ status: 302, location: 'https://brand.example/shoes' })
    expect(await unknownHosts()).toBe(before + 1)

    expect((await s.api('DELETE', '/v1/domains/click.brand-a.example')).status).toBe(409)
    // A member key lists the domains but does not change them.
    const member = (await s.api('POST', '/v1/api-keys', { name: 'sender' })).body.key as string
    const asMember = { authorization: `Bearer ${member}` }
    expect((await s.api('GET', '/v1/domains', undefined, asMember)).status).toBe(200)
    expect((await s.api('POST', '/v1/domains', { host: 'click.member.example' }, asMember)).status).toBe(403)
    expect((await s.api('DELETE', '/v1/domains/click.brand-b.example', undefined, asMember)).status).toBe(403)
    const list = await s.api('GET', '/v1/domains')
    expect(list.body.domains.map((d: { host: string; default: boolean }) => [d.host, d.default])).toEqual([
      ['click.brand-a.example', false],
      ['click.brand-b.example', true],
    ])
    expect((await s.api('DELETE', '/v1/domains/click.brand-b.example')).status).toBe(204)
    const [after] = (await s.api('POST', '/v1/campaigns/brand-b/sends', { recipients: [{ id: 'martin' }] })).body.recipients
    expect(after.pixelUrl.startsWith(`${s.url}/o/brand-b/`)).toBe(true)
  })
})
