import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'
import { seed, type Seeded } from './seed.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const required = !!process.env.CI_REQUIRE_BROWSER
const available = existsSync(CHROMIUM)
if (!available && !required) console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (set CI_REQUIRE_BROWSER=1 to make this a failure)`)

const SHOTS = 'test-results/dashboard'

// Skipped only when the browser is missing and CI does not require it; CI sets CI_REQUIRE_BROWSER and fails without it.
describe.skipIf(!available && !required)('dashboard in a real browser', () => {
  let s: TestServer
  let seeded: Seeded
  let browser: Browser
  let page: Page
  const errors: string[] = []

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    s = await startTestServer()
    seeded = await seed(s)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      headless: true,
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
    page = await context.newPage()
    // Any CSP violation or script error fails the run at the end.
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    page.on('pageerror', (e) => errors.push(e.message))
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await s?.stop()
  })

  it('signs in with the API key and lands on the campaigns list', async () => {
    await page.goto(`${s.url}/dashboard/campaigns/${seeded.campaignId}`)
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in')
    await page.getByLabel('API key').fill('wrong')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid')
    await page.getByLabel('API key').fill(ADMIN_KEY)
    await page.keyboard.press('Enter')
    await page.waitForURL(`**/dashboard/campaigns/${seeded.campaignId}`)
    // The refused attempt answered 403 on purpose; every console error from here on is a failure.
    errors.length = 0
    const cookies = await page.context().cookies()
    const session = cookies.find((c) => c.name === 'sillage_session')!
    expect(session.httpOnly).toBe(true)
    expect(session.sameSite).toBe('Strict')
    expect(await page.evaluate('document.cookie')).toBe('')
    await page.goto(`${s.url}/dashboard`)
    await expect.poll(() => page.locator('tr[data-campaign-id="xss"] th a').textContent()).toBe('<script>alert(1)</script>')
    await page.screenshot({ path: `${SHOTS}/campaigns.png`, fullPage: true })
  })

  it('shows the API numbers on the campaign page, for each traffic filter', async () => {
    await page.getByRole('link', { name: 'Spring sale' }).click()
    await page.waitForURL(`**/dashboard/campaigns/${seeded.campaignId}?traffic=human`)
    const value = (id: string) => page.locator(`[data-metric="${id}"] .card-value`).textContent()
    for (const [label, traffic] of [['People', 'human'], ['Machines', 'machine'], ['All', 'all']] as const) {
      await page.locator('nav.toggle').getByRole('link', { name: label }).click()
      await page.waitForURL(`**traffic=${traffic}*`)
      expect(await page.locator('nav.toggle a[aria-current="true"]').textContent()).toBe(label)
      const api = (await s.api('GET', `/v1/campaigns/${seeded.campaignId}/stats?traffic=${traffic}`)).body
      expect(await value('sent')).toBe(api.sent.toLocaleString('en-US'))
      expect(await value('unique-openers')).toBe(api.opens.unique.toLocaleString('en-US'))
      expect(await value('unique-clickers')).toBe(api.clicks.unique.toLocaleString('en-US'))
      expect(await value('open-rate')).toBe(`${(api.rates.open.value * 100).toFixed(1)}%`)
      expect(await value('click-rate')).toBe(`${(api.rates.click.value * 100).toFixed(1)}%`)
      expect(await value('machine-opens')).toBe(String(api.machine.opens.total))
    }
    await page.locator('nav.toggle').getByRole('link', { name: 'People' }).click()
    await page.waitForURL('**traffic=human*')
    // The chart script ran under the CSP and drew a canvas.
    await page.locator('#series-chart[data-ready="true"] canvas').waitFor()
    await page.screenshot({ path: `${SHOTS}/campaign.png`, fullPage: true })
  })

  it('sorts the links table by clicks without JavaScript help', async () => {
    await page.locator('#links-table thead').getByRole('link', { name: 'Clicks', exact: true }).click()
    await page.waitForURL('**sort=clicks*')
    const clicks = (await page.locator('#links-table td[data-col="clicks"]').allTextContents()).map(Number)
    expect(clicks).toEqual([...clicks].sort((a, b) => b - a))
    expect(await page.locator('#links-table th[aria-sort="descending"]').textContent()).toContain('Clicks')
  })

  it('shows the click map in a sandboxed frame with a badge on each link', async () => {
    const frameEl = page.locator('iframe.clickmap')
    await frameEl.scrollIntoViewIfNeeded()
    expect(await frameEl.getAttribute('sandbox')).toBe('allow-same-origin')
    const frame = page.frameLocator('iframe.clickmap')
    await expect.poll(() => frame.locator('.sillage-badge').count()).toBe(seeded.links.length)
    const api = (await s.api('GET', `/v1/campaigns/${seeded.campaignId}/links/stats`)).body.links as Array<{ position: number; clicks: number }>
    const total = api.reduce((n, l) => n + l.clicks, 0)
    const first = api.find((l) => l.position === 1)!
    expect(await frame.locator('.sillage-badge[data-position="1"]').textContent()).toBe(`${first.clicks} · ${Math.round((first.clicks / total) * 100)}%`)
    // The label written with markup is text in the e-mail, never an element.
    expect(await frame.locator('img[src="x"]').count()).toBe(0)
    expect(await frame.locator('a', { hasText: '<img src=x' }).count()).toBe(1)
    await frameEl.screenshot({ path: `${SHOTS}/click-map.png` })
  })

  it('exports an audience as CSV', async () => {
    const form = page.locator('#audience-form')
    await form.getByLabel('Clicked').selectOption(seeded.links[0]!.id)
    await form.getByLabel('Segment').selectOption('vip')
    const [download] = await Promise.all([page.waitForEvent('download'), form.getByRole('button', { name: 'Download CSV' }).click()])
    expect(download.suggestedFilename()).toBe('spring-audience.csv')
    const csv = readFileSync((await download.path())!, 'utf8')
    const api = await s.api('GET', `/v1/campaigns/${seeded.campaignId}/audience?clicked=${seeded.links[0]!.id}&segment=vip`, undefined, { accept: 'text/csv' })
    // The same rows as the API; for people, clicked links by label and position instead of ids.
    let named = api.body as string
    for (const l of seeded.links) named = named.replaceAll(l.id, `${l.label || l.url} (#${l.position})`)
    expect(csv).toBe(named)
    expect(csv.split('\r\n')[0]).toMatch(/^recipient_id,/)
  })

  it('compares campaigns and shows a recipient timeline', async () => {
    await page.goto(`${s.url}/dashboard/compare`)
    await page.getByLabel('Spring sale').check()
    await page.getByLabel('<script>alert(1)</script>').check()
    await page.getByRole('button', { name: 'Compare' }).click()
    await page.locator('#compare-verdict').waitFor()
    expect(await page.locator('#compare-table tbody tr').count()).toBe(2)
    await page.screenshot({ path: `${SHOTS}/compare.png`, fullPage: true })
    await page.getByRole('link', { name: 'Recipients' }).click()
    await page.getByLabel('Recipient id').fill('r01')
    await page.getByRole('button', { name: 'Show timeline' }).click()
    const api = (await s.api('GET', '/v1/recipients/r01/timeline')).body
    await expect.poll(() => page.locator('#timeline-table tbody tr').count()).toBe(api.events.length)
    await page.screenshot({ path: `${SHOTS}/recipient.png`, fullPage: true })
  })

  it("never fetches the e-mail's remote images when the click map is viewed (nor an image from this server)", async () => {
    // A third party's server: every request it gets is a leak.
    const hits: string[] = []
    const thirdParty = createServer((req, res) => {
      hits.push(req.url ?? '')
      res.writeHead(200, { 'content-type': 'image/gif' }).end(Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'))
    })
    await new Promise<void>((resolve) => thirdParty.listen(0, '127.0.0.1', resolve))
    const remote = `http://127.0.0.1:${(thirdParty.address() as AddressInfo).port}`
    try {
      await s.api('POST', '/v1/campaigns', { id: 'images', name: 'Images' })
      const sent = await s.api('POST', '/v1/campaigns/images/sends', { recipients: [{ id: 'someone' }] })
      const ownPixel = sent.body.recipients[0].pixelUrl as string
      const html = `<!doctype html><html><head><style>.hero{background-image:url(${remote}/css-rule.png)}</style></head><body>
        <img src="${remote}/pixel.gif" width="1" height="1" alt="">
        <img src="${remote}/hero.png" srcset="${remote}/hero-2x.png 2x" alt="Hero">
        <table background="${remote}/table-bg.png"><tr><td style="background:url('${remote}/inline.png')" class="hero">
          <a href="https://shop.example/">Shop</a>
        </td></tr></table>
        <img src="${ownPixel}" alt="">
        </body></html>`
      expect((await s.api('POST', '/v1/campaigns/images/templates', { html })).status).toBe(201)
      await page.goto(`${s.url}/dashboard/campaigns/images`)
      await expect.poll(() => page.frameLocator('iframe.clickmap').locator('.sillage-badge').count()).toBe(1)
      await page.waitForLoadState('networkidle')
      await page.waitForTimeout(300)
      expect(hits).toEqual([])
      await s.flush()
      expect((await s.api('GET', '/v1/campaigns/images/stats?traffic=all')).body.opens.total).toBe(0)
    } finally {
      thirdParty.close()
      // The browser reports each refused image on the console: expected here, and only here.
      for (let i = errors.length - 1; i >= 0; i--) if (/Content Security Policy/.test(errors[i]!) && (errors[i]!.includes(remote) || errors[i]!.includes('/o/images/'))) errors.splice(i, 1)
    }
  })

  it("draws a sequence's funnel chart", async () => {
    await s.api('POST', '/v1/campaigns', { id: 'drip-1', name: 'Drip 1' })
    await s.api('POST', '/v1/campaigns', { id: 'drip-2', name: 'Drip 2' })
    await s.api('POST', '/v1/sequences', { id: 'drip', name: 'Drip', steps: [{ id: 'd1', campaignId: 'drip-1', offset: 'P0D' }, { id: 'd2', campaignId: 'drip-2', offset: 'P2D' }] })
    await s.api('POST', '/v1/sequences/drip/enrollments', { recipients: [{ id: 'u1' }, { id: 'u2' }] })
    await s.api('POST', '/v1/campaigns/drip-1/sends', { recipients: [{ id: 'u1' }, { id: 'u2' }], sequence: { id: 'drip', stepId: 'd1' } })
    await page.goto(`${s.url}/dashboard/sequences`)
    await page.getByRole('link', { name: 'Drip' }).click()
    await page.waitForURL('**/dashboard/sequences/drip')
    await page.locator('#funnel-chart[data-ready="true"] canvas').waitFor()
    expect(await page.locator('tr[data-row="sent"] td').allTextContents()).toEqual(['2', '0'])
    await page.screenshot({ path: `${SHOTS}/sequence.png`, fullPage: true })
  })

  it('is usable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${s.url}/dashboard/campaigns/${seeded.campaignId}`)
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    expect(overflow).toBeLessThanOrEqual(0)
    await page.screenshot({ path: `${SHOTS}/campaign-phone.png`, fullPage: true })
  })

  it('signs out with the form, and the session is gone', async () => {
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL('**/dashboard/sign-in')
    await page.goto(`${s.url}/dashboard`)
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in')
    expect(errors).toEqual([])
  })
})
