import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickIdCodec, trackingToSettings } from '../../src/tracking/click-id.js'
import { TokenCodec } from '../../src/tracking/token.js'
import { decorateUrl, decorationOf } from '../../src/tracking/redirect-location.js'
import { startTestServer, type TestServer } from '../support/server.js'

const full = (d: ReturnType<typeof decorateUrl>, id = 'CID') => d.head + d.sep + (d.param ? d.param + '=' + id : '') + d.fragment

describe('decorateUrl', () => {
  const both = decorationOf('spring', { utm: true, clickId: true })

  it('appends UTM and the click id before the fragment, keeping the rest byte for byte', () => {
    const d = decorateUrl('https://shop.example/p?q=a%20b&x=%2F#sec?tion', 'hero', both)
    expect(full(d)).toBe('https://shop.example/p?q=a%20b&x=%2F&utm_source=sillage&utm_medium=email&utm_campaign=spring&utm_content=hero&sl_cid=CID#sec?tion')
  })

  it('never overrides a parameter the URL already has (encoded names included)', () => {
    const d = decorateUrl('https://shop.example/?utm_source=news&utm%5Fmedium=x&sl_cid=mine', 'hero', both)
    expect(full(d)).toBe('https://shop.example/?utm_source=news&utm%5Fmedium=x&sl_cid=mine&utm_campaign=spring&utm_content=hero')
    expect(d.param).toBeNull()
  })

  it('starts a query when there is none, joins a trailing ? or &, and encodes values', () => {
    expect(full(decorateUrl('https://a.example/x#f', '', decorationOf('c', { clickId: { param: 'cid' } })))).toBe('https://a.example/x?cid=CID#f')
    expect(full(decorateUrl('https://a.example/x?', '', decorationOf('c', { clickId: true })))).toBe('https://a.example/x?sl_cid=CID')
    expect(full(decorateUrl('https://a.example/x?a=1&', 'Hero & co', decorationOf('c', { utm: { source: 'nl', campaign: 'été' } })))).toBe(
      'https://a.example/x?a=1&utm_source=nl&utm_medium=email&utm_campaign=%C3%A9t%C3%A9&utm_content=Hero%20%26%20co',
    )
    expect(full(decorateUrl('https://a.example/x?a=1', 'l', decorationOf('c', {})))).toBe('https://a.example/x?a=1')
  })

  it('reads the settings the API tracking shorthand is stored as', () => {
    expect(decorationOf('c', trackingToSettings({ clickIdParam: 'ref', utm: true }))).toEqual({
      utm: { source: 'sillage', medium: 'email', campaign: 'c' },
      clickIdParam: 'ref',
    })
  })
})

describe('ClickIdCodec', () => {
  const codec = new ClickIdCodec(['secret-1'])
  const p = { eventId: 'abc-1z', ts: 1_760_000_000_123, campaignId: 'spring', linkId: 'L1', recipientId: 'dupond@example.org' }

  it('round-trips and is URL-safe', () => {
    const id = codec.sign(p)
    expect(id).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/)
    expect(codec.verify(id)).toEqual(p)
    expect(new ClickIdCodec(['secret-2', 'secret-1']).verify(id)).toEqual(p)
  })

  it('rejects forgeries, other secrets, and recipient tokens (distinct domain)', () => {
    const id = codec.sign(p)
    const tampered = Buffer.from(Buffer.from(id.split('.')[0]!, 'base64url').toString().replace('dupond', 'durand')).toString('base64url') + '.' + id.split('.')[1]
    expect(codec.verify(tampered)).toBeNull()
    expect(codec.verify(id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A'))).toBeNull()
    expect(new ClickIdCodec(['other']).verify(id)).toBeNull()
    expect(codec.verify('garbage')).toBeNull()
    const token = new TokenCodec(['secret-1']).sign('spring', 'dupond')
    expect(codec.verify(token)).toBeNull()
    expect(new TokenCodec(['secret-1']).verify('spring', id)).toBeNull()
  })
})

describe('the redirect', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer()
  })
  afterAll(async () => {
    await s.stop()
  })

  it('decorates per campaign settings with a verifiable click id naming the click', async () => {
    expect((await s.api('POST', '/v1/campaigns', { name: 'D', id: 'deco', tracking: { clickIdParam: 'sl_cid', utm: true } })).status).toBe(201)
    const link = await s.api('POST', '/v1/campaigns/deco/links', { url: 'https://shop.example/a?utm_medium=sms&k=%7E#top', label: 'hero' })
    const sends = await s.api('POST', '/v1/campaigns/deco/sends', { recipients: [{ id: 'dupond' }] })
    const r = await fetch(sends.body.recipients[0].links[0].url, { redirect: 'manual' })
    const location = r.headers.get('location')!
    expect(location).toMatch(/^https:\/\/shop\.example\/a\?utm_medium=sms&k=%7E&utm_source=sillage&utm_campaign=deco&utm_content=hero&sl_cid=[A-Za-z0-9_.-]+#top$/)
    const cid = new URL(location).searchParams.get('sl_cid')!
    const payload = new ClickIdCodec([(s.deps.tokens as unknown as { keys: Buffer[] }).keys[0]!.toString()]).verify(cid)
    expect(payload).toMatchObject({ campaignId: 'deco', linkId: link.body.id, recipientId: 'dupond' })
    await s.flush()
    const rs = await s.deps.events.client.query({ query: `SELECT event_id FROM ${s.deps.events.db}.events WHERE campaign_id = 'deco'`, format: 'JSONEachRow' })
    expect((await rs.json<{ event_id: string }>()).map((e) => e.event_id)).toEqual([payload!.eventId])

    await s.api('POST', '/v1/campaigns', { name: 'plain', id: 'plain' })
    await s.api('POST', '/v1/campaigns/plain/links', { url: 'https://shop.example/b?x=1#f' })
    const plain = await s.api('POST', '/v1/campaigns/plain/sends', { recipients: [{ id: 'dupond' }] })
    const r2 = await fetch(plain.body.recipients[0].links[0].url, { redirect: 'manual' })
    expect(r2.headers.get('location')).toBe('https://shop.example/b?x=1#f')
  })

  it('PATCH /v1/campaigns/:id turns decoration on and off at once', async () => {
    await s.api('POST', '/v1/campaigns', { name: 'later', id: 'later' })
    await s.api('POST', '/v1/campaigns/later/links', { url: 'https://shop.example/l', label: 'x' })
    const url = (await s.api('POST', '/v1/campaigns/later/sends', { recipients: [{ id: 'r' }] })).body.recipients[0].links[0].url
    const loc = async () => (await fetch(url, { redirect: 'manual' })).headers.get('location')!
    expect(await loc()).toBe('https://shop.example/l')
    const p = await s.api('PATCH', '/v1/campaigns/later', { tracking: { clickIdParam: 'cid', utm: true } })
    expect(p.status).toBe(200)
    expect(p.body.settings).toMatchObject({ clickId: { param: 'cid' }, utm: true })
    expect(await loc()).toMatch(/^https:\/\/shop\.example\/l\?utm_source=sillage&utm_medium=email&utm_campaign=later&utm_content=x&cid=[A-Za-z0-9_.-]+$/)
    await s.api('PATCH', '/v1/campaigns/later', { tracking: { clickIdParam: null, utm: false } })
    expect(await loc()).toBe('https://shop.example/l')
    expect((await s.api('PATCH', '/v1/campaigns/nope', { tracking: { utm: true } })).status).toBe(404)
  })

  it('decorates only the sender\'s own domains (OWN_DOMAINS and settings.domains): a third party gets the plain URL', async () => {
    // The README's form: the tracking short form inside settings.
    const c = await s.api('POST', '/v1/campaigns', { name: 'O', id: 'own', settings: { tracking: { clickIdParam: 'sl_cid', utm: true }, domains: ['Partner.Example'] } })
    expect(c.status).toBe(201)
    expect(c.body.settings).toEqual({ clickId: { param: 'sl_cid' }, utm: true, domains: ['partner.example'] })
    const urls = ['https://www.shop.example/p', 'https://www.instagram.com/shop/', 'https://partner.example/x', 'https://notshop.example/y']
    for (const url of urls) await s.api('POST', '/v1/campaigns/own/links', { url })
    const sent = (await s.api('POST', '/v1/campaigns/own/sends', { recipients: [{ id: 'dupond' }] })).body.recipients[0].links as Array<{ url: string }>
    const locations = await Promise.all(sent.map(async (l) => (await fetch(l.url, { redirect: 'manual' })).headers.get('location')!))
    const decorated = locations.map((l) => new URL(l).searchParams.has('sl_cid') && new URL(l).searchParams.get('utm_campaign') === 'own')
    expect(decorated).toEqual([true, false, true, false])
    expect(locations[1]).toBe('https://www.instagram.com/shop/')
    expect(locations[3]).toBe('https://notshop.example/y')
  })

  it('rejects a bad clickIdParam naming the field', async () => {
    const r = await s.api('POST', '/v1/campaigns', { name: 'x', tracking: { clickIdParam: 'a b' } })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toContain('body.tracking.clickIdParam')
  })
})
