import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSillage } from 'sillage/sdk'
import { links, templates } from '../../src/store/schema.js'
import { sql } from 'drizzle-orm'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'

const FIXTURES = join(import.meta.dirname, '../fixtures/emails/postmark')
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')

const HTML = `<!DOCTYPE html>
<html><head><title>News</title><!--[if mso]><style>td{font-family:Arial}</style><![endif]--></head>
<body>
<p>Preheader</p>
<a href="https://shop.example/p?a=1&amp;b=2">Product page</a>
<a href="https://shop.example/p?a=1&amp;b=2"><img src="x.png" alt="Product image"></a>
<!--[if mso]><v:roundrect href="https://shop.example/buy" style="height:40px">Buy</v:roundrect><![endif]-->
<a href="mailto:help@example.com">Mail us</a>
<a href="{{unsubscribe_url}}">Unsubscribe</a>
<a href="ftp://files.example/x">FTP</a>
<a href="https://shop.example/off" data-sillage="off">Not tracked</a>
</body></html>
`
const TEXT = 'Product: https://shop.example/p?a=1&b=2\nHelp: mailto:help@example.com\n'

let s: TestServer

beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { name: 'Templates', id: 'tpl' })
  await s.api('POST', '/v1/campaigns', { name: 'No pixel', id: 'nopix', settings: { pixel: false } })
})
afterAll(async () => {
  await s.stop()
})

async function ndjson(path: string, body: unknown) {
  const res = await fetch(s.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { res, lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) }
}

describe('POST /v1/campaigns/:id/templates', () => {
  it('registers each occurrence as its own link, lists what it left alone, and shows the tracked template', async () => {
    const r = await s.api('POST', '/v1/campaigns/tpl/templates', { html: HTML, text: TEXT })
    expect(r.status).toBe(201)
    const t = r.body
    expect(t.links.map((l: any) => [l.position, l.url, l.label])).toEqual([
      [1, 'https://shop.example/p?a=1&b=2', 'Product page'],
      [2, 'https://shop.example/p?a=1&b=2', 'Product image'],
      [3, 'https://shop.example/buy', expect.any(String)],
      [4, 'https://shop.example/p?a=1&b=2', ''],
    ])
    // Two occurrences of one URL are two links.
    expect(new Set(t.links.map((l: any) => l.id)).size).toBe(4)
    expect(t.skipped).toEqual(
      expect.arrayContaining([
        { href: 'mailto:help@example.com', reason: 'mailto', part: 'html' },
        { href: '{{unsubscribe_url}}', reason: 'merge_tag', part: 'html' },
        { href: 'ftp://files.example/x', reason: 'unsupported_scheme', part: 'html' },
        { href: 'https://shop.example/off', reason: 'opt_out', part: 'html' },
      ]),
    )
    expect(t.html).toContain(`href="${s.url}/c/${t.links[0].id}/{{sillage.token}}"`)
    expect(t.html).toContain(`<v:roundrect href="${s.url}/c/${t.links[2].id}/{{sillage.token}}"`)
    expect(t.html).toContain(`src="${s.url}/o/tpl/{{sillage.token}}.gif"`)
    expect(t.html.indexOf('/o/tpl/')).toBeLessThan(t.html.indexOf('</body>'))
    expect(t.text).toBe(`Product: ${s.url}/c/${t.links[3].id}/{{sillage.token}}\nHelp: mailto:help@example.com\n`)
    // Registered: the links API lists them with their template positions.
    const listed = await s.api('GET', '/v1/campaigns/tpl/links')
    const ids = new Set((listed.body.links ?? listed.body).map((l: any) => l.id))
    for (const l of t.links) expect(ids.has(l.id)).toBe(true)
    // And GET gives the same template back.
    const again = await s.api('GET', `/v1/campaigns/tpl/templates/${t.id}`)
    expect(again.status).toBe(200)
    expect(again.body.html).toBe(t.html)
    expect(again.body.links).toEqual(t.links)
  })

  it('compiles the real Postmark templates: merge-tag hrefs skipped and listed, no link half-registered', async () => {
    for (const name of ['welcome.html', 'receipt.html', 'user-invitation.html', 'trial-expiring.html', 'comment-notification.html']) {
      const r = await s.api('POST', '/v1/campaigns/tpl/templates', { html: fixture(name) })
      expect(r.status, name).toBe(201)
      expect(r.body.skipped.some((k: any) => k.reason === 'merge_tag'), name).toBe(true)
      for (const l of r.body.links) expect(l.url).toMatch(/^https?:\/\//)
      expect(r.body.html).toContain('{{sillage.token}}.gif')
    }
  })

  it('renders through the API, and a rendered link redirects to its URL and records the click', async () => {
    const t = (await s.api('POST', '/v1/campaigns/tpl/templates', { html: HTML, text: TEXT })).body
    const r = await s.api('POST', '/v1/campaigns/tpl/render', { templateId: t.id, recipients: [{ id: 'alice', segments: ['vip'] }, { id: 'bob' }] })
    expect(r.status).toBe(200)
    expect(r.body.templateId).toBe(t.id)
    expect(r.body.recipients.map((x: any) => x.id)).toEqual(['alice', 'bob'])
    const alice = r.body.recipients[0]
    const token = s.deps.tokens.sign('tpl', 'alice')
    expect(alice.html).toBe(t.html.replaceAll('{{sillage.token}}', token))
    expect(alice.text).toBe(t.text.replaceAll('{{sillage.token}}', token))
    expect(alice.headers).toEqual({ 'List-Unsubscribe': `<${s.url}/u/tpl/${token}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' })

    const second = `${s.url}/c/${t.links[1].id}/${token}`
    expect(alice.html).toContain(`href="${second}"`)
    const click = await fetch(second, { redirect: 'manual' })
    expect(click.status).toBe(302)
    expect(click.headers.get('location')).toBe('https://shop.example/p?a=1&b=2')
    await s.flush()
    const stats = await s.api('GET', '/v1/campaigns/tpl/stats')
    expect(stats.body.sent).toBe(2)
    const rs = await s.deps.events.client.query({
      query: `SELECT link_id, recipient_id FROM ${s.deps.events.db}.events WHERE campaign_id = 'tpl' AND type = 'click'`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([{ link_id: t.links[1].id, recipient_id: 'alice' }])
  })

  it('uses the latest template when none is named, and adds the mailto part when asked', async () => {
    const latest = (await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<p>Latest <a href="https://latest.example/">x</a></p>' })).body
    const r = await s.api('POST', '/v1/campaigns/tpl/render', { recipients: [{ id: 'carol' }], unsubscribeMailto: 'unsub@news.example' })
    expect(r.status).toBe(200)
    expect(r.body.templateId).toBe(latest.id)
    expect(r.body.recipients[0].text).toBeNull()
    expect(r.body.recipients[0].headers['List-Unsubscribe']).toBe(`<${s.url}/u/tpl/${s.deps.tokens.sign('tpl', 'carol')}>, <mailto:unsub@news.example>`)
    const bad = await s.api('POST', '/v1/campaigns/tpl/render', { recipients: [{ id: 'carol' }], unsubscribeMailto: 'a>b@x' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('body.unsubscribeMailto')
  })

  it('streams NDJSON, one recipient per line, for a large list', async () => {
    const t = (await s.api('POST', '/v1/campaigns/tpl/templates', { html: HTML, text: TEXT })).body
    const recipients = Array.from({ length: 2000 }, (_, i) => ({ id: `r${i}` }))
    const { res, lines } = await ndjson(`/v1/campaigns/tpl/render?summary=true`, { templateId: t.id, recipients })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/x-ndjson')
    expect(res.headers.get('sillage-suppressed-count')).toBe('0')
    expect(lines).toHaveLength(2001)
    expect(lines[1999].id).toBe('r1999')
    expect(lines[1999].html).toContain(s.deps.tokens.sign('tpl', 'r1999'))
    expect(lines[2000]).toEqual({ summary: { templateId: t.id, rendered: 2000, suppressed: { mode: 'skip', count: 0, recipients: [] }, pressure: { mode: 'skip', category: '', count: 0, recipients: [] } } })
    const plain = await ndjson(`/v1/campaigns/tpl/render`, { templateId: t.id, recipients: recipients.slice(0, 3) })
    expect(plain.lines).toHaveLength(3)
    expect(plain.lines.every((l) => typeof l.html === 'string' && l.headers['List-Unsubscribe-Post'] === 'List-Unsubscribe=One-Click')).toBe(true)
  })

  it('gives the same bytes through the SDK as through the API', async () => {
    const t = (await s.api('POST', '/v1/campaigns/tpl/templates', { html: HTML, text: TEXT, options: { honeypot: true } })).body
    expect(t.honeypotLinkId).toEqual(expect.any(String))
    const api = await s.api('POST', '/v1/campaigns/tpl/render', { templateId: t.id, recipients: [{ id: 'dave@example.com' }], unsubscribeMailto: 'mailto:u@news.example?subject=unsubscribe' })
    const secret = readFileSync(join(s.deps.config.dataDir, 'tracker-secret'), 'utf8').trim()
    const sdk = createSillage({ secret, publicBaseUrl: s.url, unsubscribeMailto: 'mailto:u@news.example?subject=unsubscribe' })
    const local = sdk.renderer(t)('dave@example.com')
    expect(JSON.stringify(local)).toBe(JSON.stringify(api.body.recipients[0]))
    expect(sdk.token('tpl', 'dave@example.com')).toBe(s.deps.tokens.sign('tpl', 'dave@example.com'))
    // The honeypot is a registered link labelled for the classifier, and it redirects.
    const hp = await s.api('GET', '/v1/campaigns/tpl/links')
    expect((hp.body.links ?? hp.body).find((l: any) => l.id === t.honeypotLinkId)?.label).toBe('__honeypot__')
    const r = await fetch(`${s.url}/c/${t.honeypotLinkId}/${sdk.token('tpl', 'dave@example.com')}`, { redirect: 'manual' })
    expect(r.status).toBe(302)
  })

  it('writes each recipient\'s unsubscribe URL where the template says {{sillage.unsubscribe}}, through the API and the SDK, never as a tracked link', async () => {
    const html = '<html><body><a href="https://shop.example/u">Shop</a><p><a href="{{sillage.unsubscribe}}">Unsubscribe</a></p></body></html>'
    const t = (await s.api('POST', '/v1/campaigns/tpl/templates', { html, text: 'Unsubscribe: {{sillage.unsubscribe}}' })).body
    expect(t.links.map((l: { url: string }) => l.url)).toEqual(['https://shop.example/u'])
    expect(t.skipped).toEqual([])
    expect(t.html).toContain(`<a href="${s.url}/u/tpl/{{sillage.token}}">Unsubscribe</a>`)
    const api = await s.api('POST', '/v1/campaigns/tpl/render', { templateId: t.id, recipients: [{ id: 'erin' }] })
    const token = s.deps.tokens.sign('tpl', 'erin')
    const [erin] = api.body.recipients
    expect(erin.html).toContain(`<a href="${s.url}/u/tpl/${token}">Unsubscribe</a>`)
    expect(erin.text).toBe(`Unsubscribe: ${s.url}/u/tpl/${token}`)
    expect(erin.headers['List-Unsubscribe']).toBe(`<${s.url}/u/tpl/${token}>`)
    const secret = readFileSync(join(s.deps.config.dataDir, 'tracker-secret'), 'utf8').trim()
    expect(JSON.stringify(createSillage({ secret, publicBaseUrl: s.url }).renderer(t)('erin'))).toBe(JSON.stringify(erin))
    // The link is the reader's page (which never unsubscribes on GET), not a redirect.
    const page = await fetch(`${s.url}/u/tpl/${token}`)
    expect(page.status).toBe(200)
  })

  it('leaves the pixel out when the campaign turns it off', async () => {
    const t = await s.api('POST', '/v1/campaigns/nopix/templates', { html: HTML })
    expect(t.status).toBe(201)
    expect(t.body.pixel).toBe(false)
    expect(t.body.html).not.toContain('/o/nopix/')
    const r = await s.api('POST', '/v1/campaigns/nopix/render', { recipients: [{ id: 'x' }] })
    expect(r.body.recipients[0].html).not.toContain('.gif')
  })
})

describe('documentation', () => {
  it('lists the senders endpoints in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, unknown> }
    for (const path of ['/v1/campaigns/{id}/templates', '/v1/campaigns/{id}/templates/{templateId}', '/v1/campaigns/{id}/render', '/v1/suppressions', '/v1/suppressions/{recipientId}', '/v1/recipients/{id}']) {
      expect(doc.paths[path], path).toBeDefined()
    }
  })
})

describe('bad input', () => {
  const countTemplates = async () => ({
    templates: (await s.deps.meta.db.select().from(templates)).length,
    links: (await s.deps.meta.db.select().from(links)).length,
    cached: s.deps.links.size,
  })

  it('answers clearly and registers nothing', async () => {
    const before = await countTemplates()
    const notHtml = await s.api('POST', '/v1/campaigns/tpl/templates', { html: 'just some words, no markup' })
    expect(notHtml.status).toBe(400)
    expect(notHtml.body.error).toMatchObject({ code: 'validation_failed' })
    expect(notHtml.body.error.message).toMatch(/^body\.html: /)
    const empty = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '   ' })
    expect(empty.status).toBe(400)
    const binary = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<p>\u0000</p>' })
    expect(binary.status).toBe(400)
    const wrongType = await s.api('POST', '/v1/campaigns/tpl/templates', { html: 42 })
    expect(wrongType.status).toBe(400)
    expect(wrongType.body.error.message).toContain('body.html')
    const badOption = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<p>x</p>', options: { optOutAttribute: 'a b' } })
    expect(badOption.status).toBe(400)
    expect(badOption.body.error.message).toMatch(/^body\.options: /)
    const brokenLater = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<a href="https://ok.example/">ok</a>', text: 'x\u0000' })
    expect(brokenLater.status).toBe(400)
    expect(brokenLater.body.error.message).toMatch(/^body\.text: /)
    const unknownCampaign = await s.api('POST', '/v1/campaigns/nope/templates', { html: '<a href="https://x.example/">x</a>' })
    expect(unknownCampaign.status).toBe(404)
    expect(await countTemplates()).toEqual(before)
  })

  it('rolls the whole template back when registering one of its links fails', async () => {
    await s.deps.meta.db.execute(sql.raw(`
      CREATE FUNCTION fail_link() RETURNS trigger AS $$ BEGIN
        IF NEW.url = 'https://fail.example/' THEN RAISE EXCEPTION 'refused by test'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`))
    await s.deps.meta.db.execute(sql.raw('CREATE TRIGGER fail_link BEFORE INSERT ON links FOR EACH ROW EXECUTE FUNCTION fail_link()'))
    try {
      const before = await countTemplates()
      const r = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<a href="https://ok.example/">ok</a><a href="https://fail.example/">x</a>' })
      expect(r.status).toBe(500)
      expect(await countTemplates()).toEqual(before)
    } finally {
      await s.deps.meta.db.execute(sql.raw('DROP TRIGGER fail_link ON links'))
      await s.deps.meta.db.execute(sql.raw('DROP FUNCTION fail_link()'))
    }
  })

  it('refuses a 10 MB body with 413', async () => {
    const html = '<p>' + 'x'.repeat(10 * 1024 * 1024) + '</p>'
    const r = await s.api('POST', '/v1/campaigns/tpl/templates', { html })
    expect(r.status).toBe(413)
    expect(r.body.error.code).toBe('payload_too_large')
    expect(r.body.error.message).toContain('5 MB')
  })

  it('accepts a template without links, non-http links (skipped) and broken entities (lenient)', async () => {
    const none = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<p>No links here</p>' })
    expect(none.status).toBe(201)
    expect(none.body.links).toEqual([])
    const ftp = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<a href="ftp://x.example/f">f</a><a href="javascript:alert(1)">j</a>' })
    expect(ftp.status).toBe(201)
    expect(ftp.body.skipped.map((k: any) => k.reason)).toEqual(['unsupported_scheme', 'javascript'])
    const entity = await s.api('POST', '/v1/campaigns/tpl/templates', { html: '<a href="https://x.example/?a=1&ampb=2&bogus;">x</a> &nbsp &#xZZ;' })
    expect(entity.status).toBe(201)
    expect(entity.body.links).toHaveLength(1)
    expect(entity.body.html).toContain('&nbsp &#xZZ;')
  })

  it('refuses more than 10,000 recipients with 413, and an unknown template with 404', async () => {
    const recipients = Array.from({ length: 10_001 }, (_, i) => ({ id: `r${i}` }))
    const big = await s.api('POST', '/v1/campaigns/tpl/render', { recipients })
    expect(big.status).toBe(413)
    const missing = await s.api('POST', '/v1/campaigns/tpl/render', { templateId: 'nope', recipients: [{ id: 'a' }] })
    expect(missing.status).toBe(404)
    await s.api('POST', '/v1/campaigns', { name: 'Empty', id: 'empty' })
    const none = await s.api('POST', '/v1/campaigns/empty/render', { recipients: [{ id: 'a' }] })
    expect(none.status).toBe(404)
    expect(none.body.error.message).toContain('no template')
  })
})
