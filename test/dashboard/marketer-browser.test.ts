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
