import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chDateTime } from '../../src/store/clickhouse.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { CLASSIFIER_VERSION } from '../../src/tracking/classify.js'
import { startTestServer, type TestServer } from '../support/server.js'

let s: TestServer

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
const OUTLOOK = 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; Microsoft Outlook 16.0.17328; ms-office; MSOffice 16)'
const APPLE_MAIL = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)'
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'

beforeAll(async () => {
  s = await startTestServer({ env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
})
afterAll(async () => {
  await s.stop()
})

describe('POST /v1/admin/reclassify', () => {
  const T = Date.parse('2026-02-10T12:00:00.000Z')
  const ev = (id: string, over: Record<string, unknown>) => ({
    event_id: id, type: 'click', ts: chDateTime(T), campaign_id: 'old', link_id: 'l1', recipient_id: 'r-' + id, token_valid: true,
    method: 'GET', ip: '198.51.100.0', user_agent: CHROME, referer: '', prefetch: '', class: 'human', reasons: [], proxy: '',
    classifier_version: 0, ...over,
  })

  beforeAll(async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Old rules', id: 'old' })
    const values = [
      ev('scanner', { user_agent: 'Barracuda Sentinel (EE)' }),
      ev('outlook', { type: 'open', link_id: '', user_agent: OUTLOOK, class: 'crawler', reasons: ['crawler_ua'] }),
      ev('gmail', { type: 'open', link_id: '', user_agent: GMAIL_PROXY, class: 'crawler', reasons: ['crawler_ua'] }),
      ev('scanip', { reasons: ['scanner_ip'], class: 'scanner_click' }),
      ev('fine', { classifier_version: CLASSIFIER_VERSION }),
      ev('b1', { recipient_id: 'burster', link_id: 'a', ts: chDateTime(T + 100) }),
      ev('b2', { recipient_id: 'burster', link_id: 'b', ts: chDateTime(T + 400) }),
      ev('b3', { recipient_id: 'burster', link_id: 'c', ts: chDateTime(T + 900) }),
      ev('outside', { user_agent: 'Barracuda Sentinel (EE)', ts: chDateTime(T + 3 * 3_600_000) }),
      ev('conversion', { type: 'conversion', user_agent: 'Barracuda Sentinel (EE)' }),
      ev('other', { campaign_id: 'other-campaign', user_agent: 'Barracuda Sentinel (EE)' }),
    ]
    await s.deps.events.client.insert({
      table: `${s.deps.events.db}.events`, values, format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
    })
  })

  const state = async () =>
    Object.fromEntries(
      (await queryRows<{ event_id: string; class: string; reasons: string[]; proxy: string; classifier_version: number }>(
        s.deps.events, `SELECT event_id, class, reasons, proxy, classifier_version FROM ${s.deps.events.db}.events`,
      )).map((r) => [r.event_id, r]),
    )

  it('recomputes classes with the current rules and counts what changed', async () => {
    const r = await s.api('POST', '/v1/admin/reclassify', { from: new Date(T - 60_000).toISOString(), to: new Date(T + 60_000).toISOString(), campaignId: 'old' })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      classifierVersion: CLASSIFIER_VERSION,
      examined: 8,
      changed: 7,
      before: { human: 5, machine_open: 0, scanner_click: 1, crawler: 2 },
      after: { human: 3, machine_open: 0, scanner_click: 5, crawler: 0 },
      transitions: { 'human→scanner_click': 4, 'crawler→human': 2 },
    })
    const st = await state()
    expect(st.scanner).toMatchObject({ class: 'scanner_click', reasons: ['scanner_ua'], classifier_version: CLASSIFIER_VERSION })
    expect(st.outlook).toMatchObject({ class: 'human', reasons: [], classifier_version: CLASSIFIER_VERSION })
    expect(st.gmail).toMatchObject({ class: 'human', reasons: [], proxy: 'gmail' })
    // The anonymised IP cannot be re-checked against narrow ranges: the stored IP reason stays.
    expect(st.scanip).toMatchObject({ class: 'scanner_click', reasons: ['scanner_ip'], classifier_version: CLASSIFIER_VERSION })
    expect(st.fine).toMatchObject({ class: 'human', classifier_version: CLASSIFIER_VERSION })
    for (const id of ['b1', 'b2', 'b3']) expect(st[id]).toMatchObject({ class: 'scanner_click', reasons: ['burst'] })
    for (const id of ['outside', 'conversion', 'other']) expect(st[id]).toMatchObject({ class: 'human', classifier_version: 0 })
  })

  it('changes nothing the second time', async () => {
    const before = await state()
    const r = await s.api('POST', '/v1/admin/reclassify', { from: new Date(T - 60_000).toISOString(), to: new Date(T + 60_000).toISOString(), campaignId: 'old' })
    expect(r.body).toMatchObject({ examined: 8, changed: 0, transitions: {} })
    expect(await state()).toEqual(before)
  })

  it('is for admin keys only: the bootstrap key or a key with role admin, not a member key', async () => {
    const member = await s.api('POST', '/v1/api-keys', { name: 'dashboard' })
    expect(member.status).toBe(201)
    const window = { from: '2026-02-10T00:00:00Z', to: '2026-02-11T00:00:00Z' }
    const r = await s.api('POST', '/v1/admin/reclassify', window, { authorization: `Bearer ${member.body.key}` })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('forbidden')
    const admin = await s.api('POST', '/v1/api-keys', { name: 'ops', role: 'admin' })
    expect(admin.status).toBe(201)
    expect((await s.api('POST', '/v1/admin/reclassify', window, { authorization: `Bearer ${admin.body.key}` })).status).toBe(200)
  })

  it('rejects a window that ends before it starts, naming the field', async () => {
    const r = await s.api('POST', '/v1/admin/reclassify', { from: '2026-02-10T00:00:00Z', to: '2026-02-09T00:00:00Z' })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toContain('body.from')
  })
})

describe('GET /v1/campaigns/:id/clients', () => {
  beforeAll(async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Clients', id: 'clients' })
    await s.api('POST', '/v1/campaigns/clients/links', { url: 'https://shop.example/x' })
    const sends = await s.api('POST', '/v1/campaigns/clients/sends', { recipients: ['outlook', 'apple', 'gmail', 'iphone', 'mpp'].map((id) => ({ id })) })
    const by = Object.fromEntries((sends.body.recipients as Array<{ id: string; pixelUrl: string; links: Array<{ url: string }> }>).map((r) => [r.id, r]))
    const open = (id: string, ua: string) => fetch(by[id]!.pixelUrl, { headers: { 'user-agent': ua } })
    const click = (id: string, ua: string) => fetch(by[id]!.links[0]!.url, { redirect: 'manual', headers: { 'user-agent': ua } })
    await open('outlook', OUTLOOK)
    await open('outlook', OUTLOOK)
    await click('outlook', CHROME)
    await open('apple', APPLE_MAIL)
    await open('gmail', GMAIL_PROXY)
    await open('iphone', IPHONE_SAFARI)
    await click('iphone', IPHONE_SAFARI)
    await open('mpp', 'Mozilla/5.0')
    await s.flush()
  })

  const byName = (xs: Array<{ name: string }>) => Object.fromEntries(xs.map((x) => [x.name, x]))

  it('counts human opens and clicks by client, OS and device', async () => {
    const r = await s.api('GET', '/v1/campaigns/clients/clients')
    expect(r.status).toBe(200)
    expect(r.body.traffic).toBe('human')
    const clients = byName(r.body.clients)
    expect(clients).toEqual({
      Outlook: { name: 'Outlook', opens: { total: 2, unique: 1 }, clicks: { total: 0, unique: 0 } },
      Chrome: { name: 'Chrome', opens: { total: 0, unique: 0 }, clicks: { total: 1, unique: 1 } },
      'Apple Mail': { name: 'Apple Mail', opens: { total: 1, unique: 1 }, clicks: { total: 0, unique: 0 } },
      'Gmail image proxy': { name: 'Gmail image proxy', opens: { total: 1, unique: 1 }, clicks: { total: 0, unique: 0 } },
      'Mobile Safari': { name: 'Mobile Safari', opens: { total: 1, unique: 1 }, clicks: { total: 1, unique: 1 } },
    })
    // Most events first, ties by name.
    expect(r.body.clients.map((x: { name: string }) => x.name)).toEqual(['Mobile Safari', 'Outlook', 'Apple Mail', 'Chrome', 'Gmail image proxy'])
    const os = byName(r.body.os)
    expect(os.iOS).toMatchObject({ opens: { total: 1, unique: 1 }, clicks: { total: 1, unique: 1 } })
    expect(os.Windows).toMatchObject({ opens: { total: 2, unique: 1 }, clicks: { total: 1, unique: 1 } })
    expect(os.unknown).toMatchObject({ opens: { total: 1, unique: 1 } })
    const devices = byName(r.body.devices)
    expect(devices.mobile).toMatchObject({ opens: { total: 1, unique: 1 }, clicks: { total: 1, unique: 1 } })
    expect(devices.desktop).toMatchObject({ opens: { total: 3, unique: 2 }, clicks: { total: 1, unique: 1 } })
    expect(devices.unknown).toMatchObject({ opens: { total: 1, unique: 1 } })
  })

  it('shows machine traffic on its own or with people', async () => {
    const machine = await s.api('GET', '/v1/campaigns/clients/clients?traffic=machine')
    expect(machine.body.clients).toEqual([{ name: 'Apple MPP', opens: { total: 1, unique: 1 }, clicks: { total: 0, unique: 0 } }])
    const all = await s.api('GET', '/v1/campaigns/clients/clients?traffic=all')
    expect(byName(all.body.clients)['Apple MPP']).toBeDefined()
    expect(all.body.clients).toHaveLength(6)
  })

  it('bounds by time, and answers 404 and 400 as the other metrics do', async () => {
    const future = await s.api('GET', `/v1/campaigns/clients/clients?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)
    expect(future.body).toMatchObject({ clients: [], os: [], devices: [] })
    expect((await s.api('GET', '/v1/campaigns/nope/clients')).status).toBe(404)
    const bad = await s.api('GET', '/v1/campaigns/clients/clients?traffic=robots')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('query.traffic')
  })
})
