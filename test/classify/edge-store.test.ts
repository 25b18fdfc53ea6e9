import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryRows } from '../../src/store/clickhouse.js'
import { CLASSIFIER_VERSION } from '../../src/tracking/classify.js'
import { startTestServer, type TestServer } from '../support/server.js'

let s: TestServer
let linkUrl: (i: number) => string
let pixelUrl: (i: number) => string

const OUTLOOK = 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)'
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
const SLACK = 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'
const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'

beforeAll(async () => {
  s = await startTestServer()
  await s.api('POST', '/v1/campaigns', { name: 'Edge classes', id: 'edge' })
  await s.api('POST', '/v1/campaigns/edge/links', { url: 'https://shop.example/a' })
  const sends = await s.api('POST', '/v1/campaigns/edge/sends', { recipients: Array.from({ length: 8 }, (_, i) => ({ id: `r${i}` })) })
  const rs = sends.body.recipients as Array<{ links: Array<{ url: string }>; pixelUrl: string }>
  linkUrl = (i) => rs[i]!.links[0]!.url
  pixelUrl = (i) => rs[i]!.pixelUrl
})
afterAll(async () => {
  await s.stop()
})

interface Row {
  recipient_id: string
  type: string
  class: string
  reasons: string[]
  proxy: string
  classifier_version: number
  ua_client: string
  ua_os: string
  ua_device: string
}

async function stored(recipient: string): Promise<Row> {
  await s.flush()
  const rows = await queryRows<Row>(
    s.deps.events,
    `SELECT recipient_id, type, class, reasons, proxy, classifier_version, ua_client, ua_os, ua_device
     FROM ${s.deps.events.db}.events WHERE campaign_id = 'edge' AND recipient_id = {r:String}`,
    { r: recipient },
  )
  expect(rows).toHaveLength(1)
  return rows[0]!
}

describe('the edge stores the class of every hit', () => {
  it('a bare Mozilla/5.0 on the pixel is an Apple MPP machine open', async () => {
    expect((await fetch(pixelUrl(0), { headers: { 'user-agent': 'Mozilla/5.0' } })).status).toBe(200)
    expect(await stored('r0')).toMatchObject({ type: 'open', class: 'machine_open', reasons: ['apple_mpp'], proxy: '', classifier_version: CLASSIFIER_VERSION, ua_client: 'Apple MPP', ua_device: 'unknown' })
  })

  it('GoogleImageProxy is a human open through the gmail proxy', async () => {
    await fetch(pixelUrl(1), { headers: { 'user-agent': GMAIL_PROXY } })
    expect(await stored('r1')).toMatchObject({ class: 'human', reasons: [], proxy: 'gmail', ua_client: 'Gmail image proxy', ua_os: '' })
  })

  it('a HEAD on a link is a scanner click', async () => {
    const r = await fetch(linkUrl(2), { method: 'HEAD', redirect: 'manual', headers: { 'user-agent': IPHONE_SAFARI } })
    expect(r.status).toBe(302)
    expect(await stored('r2')).toMatchObject({ type: 'click', class: 'scanner_click', reasons: ['head_request'] })
  })

  it('Slackbot on a link is a link preview', async () => {
    await fetch(linkUrl(3), { redirect: 'manual', headers: { 'user-agent': SLACK } })
    expect(await stored('r3')).toMatchObject({ class: 'scanner_click', reasons: ['link_preview'], ua_device: 'bot' })
  })

  it('Outlook is a human, parsed as Outlook on a desktop', async () => {
    await fetch(pixelUrl(4), { headers: { 'user-agent': OUTLOOK } })
    expect(await stored('r4')).toMatchObject({ class: 'human', reasons: [], proxy: '', ua_client: 'Outlook' })
  })

  it('iPhone Safari is a human on a mobile iOS device', async () => {
    await fetch(linkUrl(5), { redirect: 'manual', headers: { 'user-agent': IPHONE_SAFARI } })
    expect(await stored('r5')).toMatchObject({ class: 'human', ua_client: 'Mobile Safari', ua_os: 'iOS', ua_device: 'mobile' })
  })

  it('a prefetch header makes a machine open', async () => {
    await fetch(pixelUrl(6), { headers: { 'user-agent': IPHONE_SAFARI, 'sec-purpose': 'prefetch' } })
    expect(await stored('r6')).toMatchObject({ class: 'machine_open', reasons: ['prefetch_header'] })
  })
})
