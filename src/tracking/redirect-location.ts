import { ClickIdCodec } from './click-id.js'
import type { TrackedEvent } from '../events/event.js'
import type { CampaignSettings } from '../store/schema.js'
import { destinationOf, type CachedLink, type LinkCache } from './links.js'

export const DEFAULT_CLICK_ID_PARAM = 'sl_cid'

export interface Decoration {
  utm: { source: string; medium: string; campaign: string } | null
  clickIdParam: string | null
}

/** What a campaign's settings ask the redirect to add (the API's `tracking` shorthand is stored as these settings). */
export function decorationOf(campaignId: string, settings: CampaignSettings | undefined): Decoration {
  const s = settings ?? {}
  const utm = s.utm
  let clickIdParam: string | null = null
  if (s.clickId === true) clickIdParam = DEFAULT_CLICK_ID_PARAM
  else if (s.clickId && typeof s.clickId === 'object') clickIdParam = s.clickId.param || DEFAULT_CLICK_ID_PARAM
  return {
    utm: utm
      ? {
          source: (typeof utm === 'object' && utm.source) || 'sillage',
          medium: (typeof utm === 'object' && utm.medium) || 'email',
          campaign: (typeof utm === 'object' && utm.campaign) || campaignId,
        }
      : null,
    clickIdParam,
  }
}

/**
 * Is the URL's host one of `domains` or below one (`www.shop.example` is under `shop.example`)?
 * Only such links are decorated: a click id carries the recipient id, and UTM parameters the
 * campaign's name, which a third party's site (a social profile, a partner) has no business reading.
 */
export function isOwnDomain(url: string, domains: readonly string[]): boolean {
  if (domains.length === 0) return false
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '')
  } catch {
    return false
  }
  for (const d of domains) if (host === d || host.endsWith('.' + d)) return true
  return false
}

/**
 * A link's URL split around where a click id goes: `head + sep + param + "=" + id + fragment`.
 * The URL's own text is kept byte for byte (no re-serialisation through URL, which would
 * re-encode parameters the destination may compare literally); additions go before the fragment.
 */
export interface DecoratedUrl {
  /** The URL without its fragment, UTM parameters appended. */
  head: string
  /** '?' or '&' (or '' when the head already ends with one) before the click id. */
  sep: string
  /** The click-id parameter name, null when the campaign does not ask for one or the URL already has it. */
  param: string | null
  /** '#…' or ''. */
  fragment: string
}

export function decorateUrl(url: string, label: string, d: Decoration): DecoratedUrl {
  const hash = url.indexOf('#')
  let head = hash < 0 ? url : url.slice(0, hash)
  const fragment = hash < 0 ? '' : url.slice(hash)
  const q = head.indexOf('?')
  const present = new Set<string>()
  if (q >= 0) {
    for (const pair of head.slice(q + 1).split('&')) {
      if (!pair) continue
      const eq = pair.indexOf('=')
      present.add(decodeName(eq < 0 ? pair : pair.slice(0, eq)))
    }
  }
  const joiner = () => (!head.includes('?') ? '?' : head.endsWith('?') || head.endsWith('&') ? '' : '&')
  if (d.utm) {
    const wanted: Array<[string, string]> = [
      ['utm_source', d.utm.source],
      ['utm_medium', d.utm.medium],
      ['utm_campaign', d.utm.campaign],
      ['utm_content', label],
    ]
    const add = wanted.filter(([k, v]) => v !== '' && !present.has(k)).map(([k, v]) => k + '=' + encodeURIComponent(v))
    if (add.length) head += joiner() + add.join('&')
  }
  const param = d.clickIdParam && !present.has(d.clickIdParam) ? d.clickIdParam : null
  return { head, sep: param ? joiner() : '', param: param ? encodeURIComponent(param) : null, fragment }
}

function decodeName(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}

interface Entry {
  /** The cached link object it was computed for: a change (PATCH) puts a new object in the cache. */
  link: CachedLink
  settings: CampaignSettings | undefined
  /** Null: the "offer ended" page. */
  decorated: DecoratedUrl | null
  /** The whole target when nothing varies per click. */
  fixed: string | null
}

/**
 * Where a click on `link` goes: the registered URL (a retired link's fallback), and nothing taken
 * from the request, plus the campaign's UTM parameters and signed click id when it asks for them and
 * the destination is one of the sender's own domains (`ownDomains`, OWN_DOMAINS, and the campaign's
 * settings.domains); null for the "offer ended" page. The decorated URL is computed once per link and
 * recomputed when the link (a new object once changed) or the campaign's settings object changes; a
 * click then costs one HMAC and a concatenation.
 */
export function redirectLocation(links: Pick<LinkCache, 'campaign'>, clickIds?: ClickIdCodec, ownDomains: readonly string[] = []) {
  const cache = new Map<string, Entry>()
  return (link: CachedLink, event: TrackedEvent): string | null => {
    const settings = links.campaign(link.campaignId)?.settings
    let e = cache.get(link.id)
    if (!e || e.settings !== settings || e.link !== link) {
      const to = destinationOf(link, settings)
      const own = to !== null && isOwnDomain(to, settings?.domains?.length ? [...ownDomains, ...settings.domains] : ownDomains)
      const d: Decoration = own ? decorationOf(link.campaignId, settings) : { utm: null, clickIdParam: null }
      if (!clickIds) d.clickIdParam = null
      const decorated = to === null ? null : decorateUrl(to, link.label ?? '', d)
      e = { link, settings, decorated, fixed: decorated === null ? null : decorated.param ? null : decorated.head + decorated.fragment }
      cache.set(link.id, e)
    }
    if (e.fixed !== null) return e.fixed
    if (e.decorated === null) return null
    const d = e.decorated
    const id = clickIds!.sign({ eventId: event.eventId, ts: event.ts, campaignId: link.campaignId, linkId: link.id, recipientId: event.recipientId })
    return d.head + d.sep + d.param + '=' + id + d.fragment
  }
}
