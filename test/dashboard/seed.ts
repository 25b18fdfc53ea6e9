import { randomUUID } from 'node:crypto'
import { readerFetch, type TestServer } from '../support/server.js'

export const XSS_NAME = '<script>alert(1)</script>'
export const XSS_LABEL = '"><img src=x onerror=alert(2)>'

export interface Seeded {
  campaignId: string
  links: Array<{ id: string; url: string; position: number; label: string }>
}

const HTML = `<!doctype html><html><body style="font-family:sans-serif">
<h1>Spring sale</h1>
<p><a href="https://shop.example/spring?utm=x&amp;a=1">Shop the sale</a></p>
<p><a href="https://shop.example/new">New arrivals</a> · <a href="https://blog.example/post">Read the story</a></p>
<p><a href="https://shop.example/xss?q=%22">${XSS_LABEL.replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</a></p>
</body></html>`

/**
 * A campaign with a template (4 links), 80 sends split A/B with segments, and real opens and
 * clicks through the tracked URLs (a browser UA, so human), plus machine opens and a scanner
 * click inserted as the classifier would store them. A second campaign is named with markup.
 */
export async function seed(s: TestServer): Promise<Seeded> {
  const campaignId = 'spring'
  await s.api('POST', '/v1/campaigns', { id: campaignId, name: 'Spring sale' })
  const t = await s.api('POST', `/v1/campaigns/${campaignId}/templates`, { html: HTML })
  if (t.status !== 201) throw new Error(`template: ${t.status} ${JSON.stringify(t.body)}`)
  const links = t.body.links as Seeded['links']
  const recipients = Array.from({ length: 80 }, (_, i) => ({ id: `r${String(i).padStart(2, '0')}`, variant: i % 2 ? 'B' : 'A', segments: [i < 40 ? 'vip' : 'new'] }))
  const sends = await s.api('POST', `/v1/campaigns/${campaignId}/sends`, { recipients })
  if (sends.status !== 201) throw new Error(`sends: ${sends.status} ${JSON.stringify(sends.body)}`)
  const byRecipient = sends.body.recipients as Array<{ id: string; pixelUrl: string; links: Array<{ id: string; url: string }> }>
  const hits: string[] = []
  byRecipient.forEach((r, i) => {
    if (i % 3 !== 2) hits.push(r.pixelUrl)
    // B clicks the first link far more than A; a few click the second and third.
    if (i % 2 === 1 && i % 3 !== 2) hits.push(r.links[0]!.url)
    if (i % 10 === 0) hits.push(r.links[0]!.url)
    if (i % 7 === 0) hits.push(r.links[1]!.url)
    if (i % 20 === 3) hits.push(r.links[2]!.url, r.links[2]!.url)
  })
  for (const url of hits) {
    const res = await readerFetch(url)
    await res.arrayBuffer()
  }
  await s.flush()
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '')
  await s.deps.events.client.insert({
    table: `${s.deps.events.db}.events`,
    values: [
      ...Array.from({ length: 5 }, (_, i) => ({ event_id: randomUUID(), type: 'open', ts: now, campaign_id: campaignId, recipient_id: `r${70 + i}`, class: 'machine_open', reasons: ['apple_mpp'], token_valid: true, method: 'GET' })),
      { event_id: randomUUID(), type: 'click', ts: now, campaign_id: campaignId, recipient_id: 'r79', link_id: links[3]!.id, class: 'scanner_click', reasons: ['scanner_ip'], token_valid: true, method: 'GET' },
    ],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
  })
  await s.api('POST', '/v1/campaigns', { id: 'xss', name: XSS_NAME })
  await s.api('POST', '/v1/campaigns/xss/links', { url: 'https://evil.example/?q="><script>alert(3)</script>', label: XSS_LABEL })
  await s.api('POST', '/v1/campaigns/xss/sends', { recipients: [{ id: '<b>bob</b>' }] })
  return { campaignId, links }
}

/** Signs in through the form and returns the session cookie (name=value). */
export async function signIn(s: TestServer, key: string): Promise<{ status: number; cookie: string; setCookie: string; location: string | null }> {
  const res = await fetch(`${s.url}/dashboard/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: s.url },
    body: new URLSearchParams({ key, next: '/dashboard' }),
  })
  const setCookie = res.headers.get('set-cookie') ?? ''
  await res.arrayBuffer()
  return { status: res.status, cookie: setCookie.split(';')[0] ?? '', setCookie, location: res.headers.get('location') }
}
