import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertEvents, insertSends } from '../metrics/fixture.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'
import { seed, type Seeded } from './seed.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const required = !!process.env.CI_REQUIRE_BROWSER
const available = existsSync(CHROMIUM)

/** Two campaigns, `sent` sends each, the first `clickers` of each having clicked once. */
async function abCampaigns(s: TestServer, prefix: string, a: [number, number], b: [number, number]): Promise<void> {
  const sent_at = '2026-11-20 09:00:00.000'
  for (const [name, [sent, clickers]] of [['A', a], ['B', b]] as const) {
    const id = `${prefix}-${name}`
    await s.api('POST', '/v1/campaigns', { id, name: `${prefix} ${name}` })
    await insertSends(s, Array.from({ length: sent }, (_, i) => ({ campaign_id: id, recipient_id: `r${i}`, sent_at })))
    await insertEvents(s, Array.from({ length: clickers }, (_, i) => ({ type: 'click' as const, ts: '2026-11-20 10:00:00.000', campaign_id: id, recipient_id: `r${i}`, link_id: 'L' })))
  }
}

/** A campaign whose first opens and clicks fall in known hours of the week (UTC), with one machine open that people-only counts leave out. */
async function heatCampaign(s: TestServer): Promise<void> {
  await s.api('POST', '/v1/campaigns', { id: 'heat', name: 'Heat' })
  await insertSends(s, Array.from({ length: 6 }, (_, i) => ({ campaign_id: 'heat', recipient_id: `h${i}`, sent_at: '2026-11-23 08:00:00.000' })))
  // 2026-11-24 is a Tuesday, 2026-11-29 a Sunday.
  const at = ['2026-11-24 09:05:00.000', '2026-11-24 09:40:00.000', '2026-11-24 09:59:00.000', '2026-11-29 22:10:00.000']
  await insertEvents(s, [
    ...at.map((ts, i) => ({ type: 'open' as const, ts, campaign_id: 'heat', recipient_id: `h${i}` })),
    // A later open of h0 is not a first open.
    { type: 'open', ts: '2026-11-25 15:00:00.000', campaign_id: 'heat', recipient_id: 'h0' },
    { type: 'click', ts: '2026-11-24 10:01:00.000', campaign_id: 'heat', recipient_id: 'h1', link_id: 'L' },
    { type: 'open', ts: '2026-11-26 03:00:00.000', campaign_id: 'heat', recipient_id: 'h5', class: 'machine_open', reasons: ['apple_mpp'] },
  ])
}

/** An e-mail far taller than the click map's old fixed 640 px frame. */
async function tallCampaign(s: TestServer): Promise<void> {
  await s.api('POST', '/v1/campaigns', { id: 'tall', name: 'Tall' })
  const paragraphs = Array.from({ length: 60 }, (_, i) => `<p>Paragraph ${i} <a href="https://shop.example/p${i % 3}">link ${i}</a></p>`).join('\n')
  expect((await s.api('POST', '/v1/campaigns/tall/templates', { html: `<!doctype html><html><body>${paragraphs}</body></html>` })).status).toBe(201)
}

// One browser for the file; skipped only when Chromium is missing and CI does not require it.
describe.skipIf(!available && !required)('what a marketer meets, in a real browser', () => {
  let s: TestServer
  let seeded: Seeded
  let browser: Browser
  let desktop: BrowserContext
  let page: Page
  const errors: string[] = []

  beforeAll(async () => {
    s = await startTestServer()
    seeded = await seed(s)
    await abCampaigns(s, 'sig', [1000, 90], [1000, 120])
    await abCampaigns(s, 'nsig', [300, 28], [300, 20])
    await heatCampaign(s)
    await tallCampaign(s)
    // Three of spring's clickers buy (each attributed to their last click in spring).
    for (const [recipientId, amount] of [['r00', '10'], ['r01', '60'], ['r03', '25.50']] as const) {
      expect((await s.api('POST', '/v1/conversions', { orderId: `spring-${recipientId}`, recipientId, campaignId: seeded.campaignId, amount, currency: 'EUR' })).status).toBe(201)
    }
    await s.flush()
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'], headless: true })
    desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await desktop.newPage()
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${s.url}/dashboard/sign-in`)
    await page.getByLabel('API key').fill(ADMIN_KEY)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL('**/dashboard')
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await s?.stop()
  })

  it('follow-up list from a link row: the count the API\'s audience gives, rows opening the timeline', async () => {
    const link = seeded.links[0]!
    await page.goto(`${s.url}/dashboard/campaigns/${seeded.campaignId}`)
    await page.locator(`tr[data-link-id="${link.id}"] a[data-follow="no-purchase"]`).click()
    await page.waitForURL('**/follow-up?**')
    const api = (await s.api('GET', `/v1/campaigns/${seeded.campaignId}/audience?clicked=${link.id}&converted=false&convertedWithin=7d`)).body as string
    const ids = api.split('\n').filter(Boolean).map((l) => JSON.parse(l).recipientId as string)
    expect(ids.length).toBeGreaterThan(0)
    expect(await page.locator('#follow-up-count').textContent()).toBe(String(ids.length))
    expect(await page.locator('#follow-up-table tbody tr').count()).toBe(ids.length)
    await page.locator('#follow-up-table tbody tr').first().getByRole('link').click()
    await page.waitForURL(`**/dashboard/recipients?id=${ids[0]}`)
    expect(await page.locator('#h-timeline').textContent()).toBe(`Events of ${ids[0]}, newest first`)
  })

  it('the A/B banner names the metric, the leader and the lift in points, significant or not', async () => {
    const verdict = async (prefix: string) => {
      await page.goto(`${s.url}/dashboard/compare?campaigns=${prefix}-A,${prefix}-B&metric=click_rate`)
      return page.locator('#compare-verdict').textContent()
    }
    expect(await verdict('sig')).toBe('sig-B beats sig-A on click rate, +3.0 points (+0.3 to +5.7), significant (p = 0.03, 95% interval).')
    expect(await verdict('nsig')).toBe('nsig-A leads on click rate, +2.7 points (\u22121.7 to +7.1), not significant yet (p = 0.23): about 2,700 more sends needed.')
  })

  it('the campaign page\'s weekday x hour heat map holds the timing endpoint\'s counts, people only by default', async () => {
    await page.goto(`${s.url}/dashboard/campaigns/heat?tz=UTC`)
    const api = (await s.api('GET', '/v1/campaigns/heat/timing?tz=UTC')).body.groups[0] as { firstOpen: { byWeekdayHour: number[][] }; firstClick: { byWeekdayHour: number[][] } }
    const cells = async (id: string) => {
      const counts = (await page.locator(`#${id} td[data-count]`).evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-count'))))) as number[]
      return Array.from({ length: 7 }, (_, d) => counts.slice(d * 24, d * 24 + 24))
    }
    expect(await cells('heat-opens')).toEqual(api.firstOpen.byWeekdayHour)
    expect(await cells('heat-clicks')).toEqual(api.firstClick.byWeekdayHour)
    // The known set: three first opens on Tuesday 09:00-10:00, one on Sunday 22:00, the machine open left out.
    expect(api.firstOpen.byWeekdayHour[1]![9]).toBe(3)
    expect(api.firstOpen.byWeekdayHour[6]![22]).toBe(1)
    expect(api.firstOpen.byWeekdayHour.flat().reduce((a, b) => a + b, 0)).toBe(4)
    expect(await page.locator('#heat-opens td[data-day="1"][data-hour="9"]').textContent()).toBe('3')
    expect(await page.locator('#heat-clicks td[data-day="1"][data-hour="10"]').textContent()).toBe('1')
  })

  it('the click map\'s frame is as tall as the e-mail in it', async () => {
    await page.goto(`${s.url}/dashboard/campaigns/tall`)
    const frame = page.locator('iframe.clickmap[data-fitted="true"]')
    await frame.waitFor()
    const m = (await page.evaluate(`(() => {
      const f = document.querySelector('iframe.clickmap')
      return { frame: f.getBoundingClientRect().height, doc: f.contentDocument.documentElement.scrollHeight }
    })()`)) as { frame: number; doc: number }
    expect(m.doc).toBeGreaterThan(640)
    expect(m.frame).toBeGreaterThanOrEqual(m.doc)
  })

  it('variants show the conversion rate (buyers / sent, Wilson interval) and revenue per recipient the API gives', async () => {
    await page.goto(`${s.url}/dashboard/campaigns/${seeded.campaignId}`)
    const rows = (await s.api('GET', `/v1/campaigns/${seeded.campaignId}/segments?by=variant`)).body.rows as Array<{ key: string; sent: number; conversionRate: { value: number; low: number; high: number }; conversions: { converters: number } }>
    expect(rows.reduce((n, r) => n + r.conversions.converters, 0)).toBe(3)
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`
    for (const r of rows) {
      const cell = page.locator(`#variants-table tr[data-group="${r.key}"] td[data-col="conversion-rate"]`)
      expect(await cell.textContent()).toBe(`${pct(r.conversionRate.value)} (${pct(r.conversionRate.low)}–${pct(r.conversionRate.high)}) ${r.conversions.converters} / ${r.sent}`)
    }
    const rpr = (await s.api('GET', `/v1/campaigns/${seeded.campaignId}/compare/conversions?by=variant&metric=revenue_per_recipient`)).body.rows as Array<{ key: string; exact: string }>
    for (const r of rpr) expect(await page.locator(`#variants-table tr[data-group="${r.key}"] td[data-col="revenue-per-recipient"] .num`).textContent()).toBe(`${r.exact} EUR`)
    // The compare page offers both, from GET /v1/compare's functions.
    const pair = `campaigns=${seeded.campaignId},sig-A`
    await page.goto(`${s.url}/dashboard/compare?${pair}&metric=conversion_rate`)
    const conv = (await s.api('GET', `/v1/compare?${pair}&metric=conversion_rate`)).body.rows as Array<{ key: string; successes: number; trials: number }>
    for (const r of conv) expect(await page.locator(`#compare-table tr[data-campaign-id="${r.key}"] td`).nth(1).textContent()).toBe(`${r.successes} / ${r.trials.toLocaleString('en-US')}`)
    await page.goto(`${s.url}/dashboard/compare?${pair}&metric=revenue_per_recipient`)
    const money = (await s.api('GET', `/v1/compare?${pair}&metric=revenue_per_recipient`)).body.rows as Array<{ key: string; exact: string }>
    expect(money.map((r) => r.exact)).toEqual(['1.19', '0.00'])
    for (const r of money) expect(await page.locator(`#compare-table tr[data-campaign-id="${r.key}"] td .num`).textContent()).toBe(`${r.exact} EUR`)
    expect(await page.locator('#compare-verdict').textContent()).toMatch(/^spring (leads on|beats sig-A on) revenue per recipient, \+1\.19 EUR per recipient \(/)
  })

  it('at phone width (390 px) no page is wider than the screen and the top bar is one row', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true })
    await phone.addCookies(await desktop.cookies())
    const p = await phone.newPage()
    const pages = [
      '/dashboard',
      `/dashboard/campaigns/${seeded.campaignId}`,
      `/dashboard/campaigns/${seeded.campaignId}/follow-up?clicked=${seeded.links[0]!.id}`,
      '/dashboard/compare?campaigns=sig-A,sig-B',
      '/dashboard/recipients?id=r01',
    ]
    for (const path of pages) {
      await p.goto(s.url + path)
      // A string: the test's TypeScript has no DOM types. What sticks out is named, for when this fails.
      const m = (await p.evaluate(`(() => {
        const top = document.querySelector('header.top')
        const tops = [...top.querySelectorAll('a, button')].map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))
        const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))
        return { scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, rows: new Set(tops).size, wide }
      })()`)) as { scroll: number; client: number; rows: number; wide: string[] }
      expect(m.scroll, `${path}: ${m.wide.join(', ')}`).toBeLessThanOrEqual(m.client)
      expect(m.rows, path).toBe(1)
    }
    await phone.close()
    expect(errors).toEqual([])
  })
})
