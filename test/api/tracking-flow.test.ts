import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'

let s: TestServer

beforeAll(async () => {
  s = await startTestServer()
})
afterAll(async () => {
  await s.stop()
})

describe('campaign → links → sends → clicks and opens → stats', () => {
  it('counts exactly what readers did', async () => {
    const c = await s.api('POST', '/v1/campaigns', { name: 'Spring sale', id: 'spring' })
    expect(c.status).toBe(201)
    expect(c.body).toMatchObject({ id: 'spring', name: 'Spring sale' })
    expect(Date.parse(c.body.createdAt)).not.toBeNaN()

    const hero = await s.api('POST', '/v1/campaigns/spring/links', { url: 'https://shop.example/spring?x=1&y=2', label: 'hero' })
    expect(hero.status).toBe(201)
    const again = await s.api('POST', '/v1/campaigns/spring/links', { url: 'https://shop.example/spring?x=1&y=2', label: 'hero' })
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(hero.body.id)
    const footer = await s.api('POST', '/v1/campaigns/spring/links', { url: 'https://shop.example/unsubscribe-info' })
    expect(footer.status).toBe(201)

    const sends = await s.api('POST', '/v1/campaigns/spring/sends', {
      recipients: [{ id: 'dupond', segments: ['vip'] }, { id: 'durand', variant: 'B' }, { id: 'martin' }],
    })
    expect(sends.status).toBe(201)
    expect(sends.body.recipients).toHaveLength(3)
    const [dupond, durand] = sends.body.recipients
    expect(dupond.links.map((l: { id: string }) => l.id)).toEqual([hero.body.id, footer.body.id])
    expect(dupond.pixelUrl).toBe(`${s.url}/o/spring/${dupond.token}.gif`)

    // dupond clicks hero twice and opens; durand opens twice; nobody else.
    for (const url of [dupond.links[0].url, dupond.links[0].url]) {
      const r = await readerFetch(url)
      expect(r.status).toBe(302)
      expect(r.headers.get('location')).toBe('https://shop.example/spring?x=1&y=2')
      expect(r.headers.get('cache-control')).toBe('no-store')
    }
    for (const url of [dupond.pixelUrl, durand.pixelUrl, durand.pixelUrl]) {
      const r = await readerFetch(url)
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('image/gif')
      expect(r.headers.get('cache-control')).toContain('no-store')
      const bytes = Buffer.from(await r.arrayBuffer())
      expect(bytes.length).toBe(43)
      expect(bytes.subarray(0, 6).toString()).toBe('GIF89a')
    }
    await s.flush()

    const stats = await s.api('GET', '/v1/campaigns/spring/stats')
    expect(stats.status).toBe(200)
    expect(stats.body.sent).toBe(3)
    expect(stats.body.opens).toMatchObject({ total: 3, unique: 2 })
    expect(stats.body.clicks).toMatchObject({ total: 2, unique: 1 })

    const links = await s.api('GET', '/v1/campaigns/spring/links/stats')
    const byId = Object.fromEntries(links.body.links.map((l: { linkId: string }) => [l.linkId, l]))
    expect(byId[hero.body.id]).toMatchObject({ clicks: 2, uniqueClickers: 1, label: 'hero' })
    expect(byId[footer.body.id]).toMatchObject({ clicks: 0, uniqueClickers: 0 })
  })

  it('redirects a forged token and records the click as unattributed, invalid_token', async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Forgery', id: 'forgery' })
    const link = await s.api('POST', '/v1/campaigns/forgery/links', { url: 'https://example.org/' })
    const sends = await s.api('POST', '/v1/campaigns/forgery/sends', { recipients: [{ id: 'alice' }] })
    const token: string = sends.body.recipients[0].token
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')
    for (const t of [forged, 'garbage', 'bWFsbG9yeQ.AAAAAAAAAAAAAAAA']) {
      const r = await readerFetch(`${s.url}/c/${link.body.id}/${t}`)
      expect(r.status).toBe(302)
      expect(r.headers.get('location')).toBe('https://example.org/')
    }
    // A HEAD is answered the same way and recorded as such.
    const head = await readerFetch(`${s.url}/c/${link.body.id}/${token}`, { method: 'HEAD' })
    expect(head.status).toBe(302)
    await s.flush()
    const rs = await s.deps.events.client.query({
      query: `SELECT recipient_id, token_valid, method FROM ${s.deps.events.db}.events WHERE campaign_id = 'forgery' ORDER BY ts, method`,
      format: 'JSONEachRow',
    })
    const rows = await rs.json<{ recipient_id: string; token_valid: boolean; method: string }>()
    expect(rows).toHaveLength(4)
    expect(rows.filter((r) => !r.token_valid).map((r) => r.recipient_id)).toEqual(['', '', ''])
    expect(rows.find((r) => r.token_valid)).toMatchObject({ recipient_id: 'alice', method: 'HEAD' })
    // traffic=all counts unattributed clicks; the human figures never do (a stranger with one tracked
    // link cannot inflate them): they are listed under invalidToken. The HEAD is machine traffic.
    const all = await s.api('GET', '/v1/campaigns/forgery/stats?traffic=all')
    expect(all.body.clicks).toMatchObject({ total: 4, unique: 1 })
    const human = await s.api('GET', '/v1/campaigns/forgery/stats')
    expect(human.body.clicks).toMatchObject({ total: 0, unique: 0 })
    expect(human.body.invalidToken).toEqual({ opens: 0, clicks: 3 })
  })

  it("does not accept a token verified for one campaign on another campaign's link or pixel (the edge caches verified tokens)", async () => {
    for (const id of ['cache-a', 'cache-b']) {
      await s.api('POST', '/v1/campaigns', { name: id, id })
      await s.api('POST', `/v1/campaigns/${id}/links`, { url: `https://example.org/${id}` })
    }
    const a = (await s.api('POST', '/v1/campaigns/cache-a/sends', { recipients: [{ id: 'zoe' }] })).body.recipients[0]
    const b = (await s.api('POST', '/v1/campaigns/cache-b/sends', { recipients: [{ id: 'zoe' }] })).body.recipients[0]
    // Verified once, so cached; then replayed on campaign B's link and pixel.
    expect((await readerFetch(a.links[0].url)).status).toBe(302)
    const linkB: string = b.links[0].id
    const r = await readerFetch(`${s.url}/c/${linkB}/${a.token}`)
    expect(r.status).toBe(302)
    expect(r.headers.get('location')).toBe('https://example.org/cache-b')
    expect((await readerFetch(`${s.url}/o/cache-b/${a.token}.gif`)).status).toBe(200)
    await s.flush()
    const rows = await (
      await s.deps.events.client.query({
        query: `SELECT campaign_id, type, recipient_id, token_valid FROM ${s.deps.events.db}.events WHERE campaign_id IN ('cache-a', 'cache-b') ORDER BY campaign_id, type`,
        format: 'JSONEachRow',
      })
    ).json<{ campaign_id: string; type: string; recipient_id: string; token_valid: boolean }>()
    expect(rows).toEqual([
      { campaign_id: 'cache-a', type: 'click', recipient_id: 'zoe', token_valid: true },
      { campaign_id: 'cache-b', type: 'click', recipient_id: '', token_valid: false },
      { campaign_id: 'cache-b', type: 'open', recipient_id: '', token_valid: false },
    ])
  })

  it('answers an unknown link with a small 404 page and never redirects to a URL from the request', async () => {
    const r = await fetch(`${s.url}/c/doesnotexist/abc?url=https://evil.example`, { redirect: 'manual' })
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toContain('text/html')
    expect(r.headers.get('location')).toBeNull()
    expect(await r.text()).toContain('Link not found')
  })

  it('serves the pixel of an unknown campaign without recording it', async () => {
    const r = await fetch(`${s.url}/o/nope/abc.gif`)
    expect(r.status).toBe(200)
    expect((await r.arrayBuffer()).byteLength).toBe(43)
  })
})

describe('client addresses', () => {
  it('are anonymised before they are stored, from the socket or from a trusted proxy header', async () => {
    const p = await startTestServer({ env: { TRUST_PROXY: 'true' } })
    try {
      await p.api('POST', '/v1/campaigns', { name: 'IP', id: 'ip' })
      await p.api('POST', '/v1/campaigns/ip/links', { url: 'https://example.com/ip' })
      const sends = await p.api('POST', '/v1/campaigns/ip/sends', { recipients: [{ id: 'v4' }, { id: 'v6' }] })
      const [v4, v6] = sends.body.recipients
      await readerFetch(v4.links[0].url, { headers: { 'x-forwarded-for': '203.0.113.77, 10.0.0.1' } })
      await readerFetch(v6.pixelUrl, { headers: { 'x-forwarded-for': '2001:db8:abcd:1234::99' } })
      await p.flush()
      const rs = await p.deps.events.client.query({
        query: `SELECT recipient_id, ip FROM ${p.deps.events.db}.events WHERE campaign_id = 'ip' ORDER BY recipient_id`,
        format: 'JSONEachRow',
      })
      expect(await rs.json()).toEqual([
        { recipient_id: 'v4', ip: '203.0.113.0' },
        { recipient_id: 'v6', ip: '2001:db8:abcd::' },
      ])
    } finally {
      await p.stop()
    }
  })

  it('come from the socket when the proxy is not trusted', async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Socket', id: 'socket' })
    await s.api('POST', '/v1/campaigns/socket/links', { url: 'https://example.com/socket' })
    const sends = await s.api('POST', '/v1/campaigns/socket/sends', { recipients: [{ id: 'r' }] })
    await readerFetch(sends.body.recipients[0].links[0].url, { headers: { 'x-forwarded-for': '203.0.113.77' } })
    await s.flush()
    const rs = await s.deps.events.client.query({ query: `SELECT ip FROM ${s.deps.events.db}.events WHERE campaign_id = 'socket'`, format: 'JSONEachRow' })
    expect(await rs.json()).toEqual([{ ip: '127.0.0.0' }])
  })
})
