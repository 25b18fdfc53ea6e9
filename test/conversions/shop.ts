import { expect } from 'vitest'
import { readerClick, startTestServer, type TestServer } from '../support/server.js'

export const DAY = 86_400_000
export const HOUR = 3_600_000
export const iso = (ms: number) => new Date(ms).toISOString()

export interface TrackedRecipient {
  id: string
  pixelUrl: string
  links: Array<{ id: string; url: string }>
}

export interface Shop {
  s: TestServer
  /** Moves the server's clock: events and conversions without `at` are stamped with it. */
  setNow(ms: number): void
  /** A reader's click at `at` on that clock; returns the click id the redirect carried (sl_cid). */
  click(url: string, at: number): Promise<string | null>
  /** Link ids of shop, in the order given. */
  links: string[]
  /** shop's tracked URLs per recipient. */
  rec: Record<string, TrackedRecipient>
  /** bernard's tracked link in campaign other. */
  otherLink: string
}

/**
 * The world of the conversion tests: a server on a clock that starts at `t0`; campaign shop (signed
 * click id in sl_cid, no UTM) with `links`, sent to `recipients`; campaign other, with one link, sent
 * to bernard, so that his last click can be in another campaign.
 */
export async function startShop(
  t0: number,
  links: Array<{ url: string; label: string }>,
  recipients: Array<{ id: string; variant?: string; segments?: string[]; attributes?: Record<string, string> }>,
): Promise<Shop> {
  let now = t0
  const s = await startTestServer({ clock: () => now })
  await s.api('POST', '/v1/campaigns', { name: 'Shop', id: 'shop', tracking: { clickIdParam: 'sl_cid', utm: false } })
  const ids: string[] = []
  for (const l of links) ids.push((await s.api('POST', '/v1/campaigns/shop/links', l)).body.id)
  const sends = await s.api('POST', '/v1/campaigns/shop/sends', { recipients })
  expect(sends.status).toBe(201)
  await s.api('POST', '/v1/campaigns', { name: 'Other', id: 'other' })
  await s.api('POST', '/v1/campaigns/other/links', { url: 'https://other.example/' })
  const other = await s.api('POST', '/v1/campaigns/other/sends', { recipients: [{ id: 'bernard' }] })
  return {
    s,
    setNow(ms) {
      now = ms
    },
    async click(url, at) {
      now = at
      return readerClick(url)
    },
    links: ids,
    rec: Object.fromEntries((sends.body.recipients as TrackedRecipient[]).map((r) => [r.id, r])),
    otherLink: other.body.recipients[0].links[0].url,
  }
}
