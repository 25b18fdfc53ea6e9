import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chDateTime } from '../../src/store/clickhouse.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'

let s: TestServer
const logged: Array<{ msg: string; fields: any }> = []

beforeAll(async () => {
  s = await startTestServer()
  // Capture the audit log lines.
  const info = s.deps.log.info.bind(s.deps.log)
  s.deps.log.info = ((msg: string, fields?: any) => {
    logged.push({ msg, fields })
    info(msg, fields)
  }) as typeof s.deps.log.info
  await s.api('POST', '/v1/campaigns', { name: 'Consent', id: 'news' })
  await s.api('POST', '/v1/campaigns/news/templates', { html: '<body><a href="https://shop.example/">Shop</a></body>' })
})
afterAll(async () => {
  await s.stop()
})

const unsubscribeEvents = async (recipient: string) => {
  await s.flush()
  const [row] = await queryRows<{ n: number }>(
    s.deps.events,
    `SELECT count() AS n FROM ${s.deps.events.db}.events WHERE type = 'unsubscribe' AND recipient_id = {r:String}`,
    { r: recipient },
  )
  return Number(row!.n)
}
const suppressionsOf = async (recipient: string) => (await s.api('GET', `/v1/suppressions?recipientId=${encodeURIComponent(recipient)}`)).body

describe('one-click unsubscribe', () => {
  it('GET shows an accessible confirmation page and unsubscribes nobody', async () => {
    const rendered = await s.api('POST', '/v1/campaigns/news/render', { recipients: [{ id: 'ann' }] })
    const header: string = rendered.body.recipients[0].headers['List-Unsubscribe']
    const url = /^<([^>]+)>$/.exec(header)![1]!
    for (let i = 0; i < 3; i++) {
      const r = await fetch(url, { headers: { 'user-agent': 'Mozilla/5.0 (compatible; SafeLinks scanner)' } })
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toContain('text/html')
      expect(r.headers.get('cache-control')).toBe('no-store')
      const html = await r.text()
      expect(html).toContain('<html lang="en">')
      expect(html).toMatch(/<form method="post" action="\/u\/news\/[^"]+">/)
      expect(html).toContain('<button type="submit">Unsubscribe from everything</button>')
      expect(html).toContain('name="List-Unsubscribe" value="One-Click"')
      expect(html).not.toMatch(/<img|<script/i)
    }
    expect((await suppressionsOf('ann')).total).toBe(0)
    expect(await unsubscribeEvents('ann')).toBe(0)
  })

  it('POST (RFC 8058 one-click) unsubscribes once: one suppression, one event, however many POSTs', async () => {
    const rendered = await s.api('POST', '/v1/campaigns/news/render', { recipients: [{ id: 'ben' }] })
    const url = /^<([^>]+)>$/.exec(rendered.body.recipients[0].headers['List-Unsubscribe'])![1]!
    for (let i = 0; i < 2; i++) {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })
      expect(r.status).toBe(200)
      expect(await r.text()).toContain('You are unsubscribed')
    }
    const list = await suppressionsOf('ben')
    expect(list.total).toBe(1)
    expect(list.suppressions[0]).toMatchObject({ recipientId: 'ben', scope: '', reason: 'unsubscribe', campaignId: 'news' })
    expect(await unsubscribeEvents('ben')).toBe(1)
  })

  it('answers an invalid or forged link with a 400 page and records nothing', async () => {
    const token = s.deps.tokens.sign('news', 'cat')
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')
    for (const path of [`/u/news/${forged}`, '/u/news/garbage', `/u/other/${token}`, '/u/%3Cscript%3E/x']) {
      for (const method of ['GET', 'POST']) {
        const r = await fetch(s.url + path, { method })
        expect(r.status, `${method} ${path}`).toBe(400)
        const html = await r.text()
        expect(html).toContain('not valid')
        expect(html).not.toContain('<script')
      }
    }
    expect((await suppressionsOf('cat')).total).toBe(0)
    expect(await unsubscribeEvents('cat')).toBe(0)
  })
})

describe('suppressed recipients on sends and render', () => {
  it('skips them by default and says who; include flags them; reject refuses the call', async () => {
    await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'dan', reason: 'hard_bounce' }, { recipientId: 'eve', reason: 'complaint', scope: 'news' }, { recipientId: 'fay', reason: 'x', scope: 'other' }] })
    const recipients = [{ id: 'dan' }, { id: 'eve' }, { id: 'fay' }, { id: 'gus' }]

    const sends = await s.api('POST', '/v1/campaigns/news/sends', { recipients })
    expect(sends.status).toBe(201)
    expect(sends.body.recipients.map((r: any) => r.id)).toEqual(['fay', 'gus'])
    expect(sends.body.suppressed).toMatchObject({ mode: 'skip', count: 2 })
    expect(sends.body.suppressed.recipients.map((r: any) => [r.id, r.scope, r.reason])).toEqual([
      ['dan', '', 'hard_bounce'],
      ['eve', 'news', 'complaint'],
    ])

    const render = await s.api('POST', '/v1/campaigns/news/render', { recipients })
    expect(render.body.recipients.map((r: any) => r.id)).toEqual(['fay', 'gus'])
    expect(render.body.suppressed.count).toBe(2)

    const included = await s.api('POST', '/v1/campaigns/news/render', { recipients, onSuppressed: 'include' })
    expect(included.body.recipients.map((r: any) => [r.id, r.suppressed?.reason])).toEqual([['dan', 'hard_bounce'], ['eve', 'complaint'], ['fay', undefined], ['gus', undefined]])

    const nd = await fetch(`${s.url}/v1/campaigns/news/render`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ recipients }),
    })
    expect(nd.headers.get('sillage-suppressed-count')).toBe('2')
    expect(nd.headers.get('sillage-suppressed')).toBe('dan,eve')
    expect((await nd.text()).trim().split('\n')).toHaveLength(2)

    for (const path of ['/v1/campaigns/news/sends', '/v1/campaigns/news/render']) {
      const rejected = await s.api('POST', path, { recipients: [{ id: 'hal' }, { id: 'dan' }], onSuppressed: 'reject' })
      expect(rejected.status).toBe(409)
      expect(rejected.body.error.details.suppressed.recipients.map((r: any) => r.id)).toEqual(['dan'])
    }
    const [sent] = await queryRows<{ n: number }>(s.deps.events, `SELECT count() AS n FROM ${s.deps.events.db}.sends FINAL WHERE campaign_id = 'news' AND recipient_id IN ('dan', 'eve', 'hal')`)
    // dan and eve only through the explicit include; hal never (the rejected calls recorded nothing).
    expect(Number(sent!.n)).toBe(2)
  })
})

describe('suppressions API', () => {
  it('imports, pages, filters and re-subscribes, with reasons and timestamps', async () => {
    const list = Array.from({ length: 25 }, (_, i) => ({ recipientId: `imp${String(i).padStart(2, '0')}`, reason: 'import', at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }))
    const imp = await s.api('POST', '/v1/suppressions', { suppressions: list })
    expect(imp.status).toBe(200)
    expect(imp.body.imported).toBe(25)
    const page = await s.api('GET', '/v1/suppressions?limit=10&offset=5')
    expect(page.status).toBe(200)
    expect(page.body.suppressions).toHaveLength(10)
    expect(page.body.suppressions[0]).toMatchObject({ recipientId: 'imp05', reason: 'import', at: '2026-01-01T00:05:00.000Z' })
    expect(page.body.total).toBeGreaterThanOrEqual(25)

    // Re-import: the entry takes the new reason and time.
    await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'imp00', reason: 'complaint', at: '2026-02-01T00:00:00Z' }] })
    expect((await suppressionsOf('imp00')).suppressions).toEqual([{ recipientId: 'imp00', scope: '', reason: 'complaint', campaignId: null, at: '2026-02-01T00:00:00.000Z' }])

    const del = await s.api('DELETE', '/v1/suppressions/imp00?reason=opted%20in%20again')
    expect(del.status).toBe(200)
    expect(del.body.removed).toHaveLength(1)
    expect((await suppressionsOf('imp00')).total).toBe(0)
    expect(logged.find((l) => l.msg === 'recipient_resubscribed')?.fields).toMatchObject({ recipientId: 'imp00', reason: 'opted in again', apiKeyId: 'admin' })
    expect((await s.api('DELETE', '/v1/suppressions/imp00')).status).toBe(404)

    const big = await s.api('POST', '/v1/suppressions', { suppressions: Array.from({ length: 10_001 }, (_, i) => ({ recipientId: `b${i}`, reason: 'x' })) })
    expect(big.status).toBe(413)
    const bad = await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: '', reason: 'x' }] })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('body.suppressions.0.recipientId')
  })

  it('scopes a re-subscription when asked', async () => {
    await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'ivy', reason: 'a' }, { recipientId: 'ivy', reason: 'b', scope: 'news' }] })
    const del = await s.api('DELETE', '/v1/suppressions/ivy?scope=news')
    expect(del.body.removed.map((r: any) => r.scope)).toEqual(['news'])
    expect((await suppressionsOf('ivy')).suppressions.map((r: any) => r.scope)).toEqual([''])
  })
})

describe('DELETE /v1/recipients/:id (erasure)', () => {
  it("removes the recipient's sends and events everywhere, keeps the suppression, and logs it", async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Other', id: 'other2' })
    const link = (await s.api('POST', '/v1/campaigns/other2/links', { url: 'https://x.example/' })).body
    const sends = await s.api('POST', '/v1/campaigns/other2/sends', { recipients: [{ id: 'joe' }, { id: 'kim' }] })
    const [joe, kim] = sends.body.recipients
    await fetch(joe.links[0].url, { redirect: 'manual' })
    await fetch(kim.links[0].url, { redirect: 'manual' })
    await fetch(joe.pixelUrl)
    // An event still in the journal when the erasure starts is erased too.
    const unsub = await fetch(`${s.url}/u/other2/${joe.token}`, { method: 'POST' })
    expect(unsub.status).toBe(200)
    // And an older row inserted directly.
    await s.deps.events.client.insert({
      table: `${s.deps.events.db}.events`,
      values: [{ event_id: randomUUID(), type: 'open', ts: chDateTime(Date.UTC(2025, 5, 1)), campaign_id: 'old', recipient_id: 'joe', token_valid: true }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
    })

    const r = await s.api('DELETE', '/v1/recipients/joe')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ recipientId: 'joe', erased: { events: 4, sends: 1 }, suppressionsKept: [''] })
    const count = async (table: string, who: string) =>
      Number((await queryRows<{ n: number }>(s.deps.events, `SELECT count() AS n FROM ${s.deps.events.db}.${table} WHERE recipient_id = {r:String}`, { r: who }))[0]!.n)
    expect(await count('events', 'joe')).toBe(0)
    expect(await count('sends', 'joe')).toBe(0)
    expect(await count('events', 'kim')).toBe(1)
    expect(await count('sends', 'kim')).toBe(1)
    expect((await suppressionsOf('joe')).suppressions).toMatchObject([{ recipientId: 'joe', reason: 'unsubscribe' }])
    expect(logged.find((l) => l.msg === 'recipient_erased')?.fields).toMatchObject({ recipientId: 'joe', events: 4, sends: 1, apiKeyId: 'admin' })
    expect(link.id).toBeTruthy()
  })

  it('needs an API key', async () => {
    const r = await fetch(`${s.url}/v1/recipients/kim`, { method: 'DELETE' })
    expect(r.status).toBe(401)
  })
})
