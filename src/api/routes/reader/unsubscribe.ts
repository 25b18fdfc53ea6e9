import type { IncomingMessage } from 'node:http'
import type { Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { nanoid } from 'nanoid'
import type { AppEnv } from '../../context.js'
import { encodeEvent, makeEvent, type TrackedEvent } from '../../../events/event.js'
import { findCampaigns } from '../../../services/campaigns.js'
import { getPreferences, knownCategories, setPreferences, type Frequency, type Preferences } from '../../../services/pressure.js'
import { addSuppression, GLOBAL_SCOPE } from '../../../services/suppressions.js'
import { TRANSACTIONAL, type CampaignBrand } from '../../../store/schema.js'
import { CLASSIFIER_VERSION } from '../../../tracking/classify.js'
import { anonymizeIp, clientIp } from '../../../tracking/ip.js'
import { escapeHtml } from '../../../util/html.js'

const MAX_ID_LENGTH = 128
const MAX_TOKEN_LENGTH = 512

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
  'X-Content-Type-Options': 'nosniff',
  // No script, no image, no outside resource: the page cannot track or be framed.
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/

/** The page's colours: the campaign's brand where it names a valid hex colour (never raw CSS), else the defaults. */
function colours(brand: CampaignBrand | undefined) {
  const pick = (v: string | undefined, fallback: string) => (v !== undefined && HEX.test(v) ? v : fallback)
  return { accent: pick(brand?.accentColor, '#1a1a1a'), background: pick(brand?.backgroundColor, '#fff'), text: pick(brand?.textColor, '#1a1a1a') }
}

function page(title: string, body: string, brand?: CampaignBrand): string {
  const c = colours(brand)
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:${c.text};background:${c.background}}` +
    `button{font:inherit;padding:.6rem 1.2rem;border:2px solid ${c.accent};border-radius:.3rem;background:${c.accent};color:#fff;cursor:pointer}` +
    `button.quiet{background:transparent;color:${c.accent}}` +
    'fieldset{border:1px solid #8886;border-radius:.3rem;margin:0 0 1rem;padding:.5rem 1rem}label{display:block;padding:.2rem 0}' +
    'section{margin:2rem 0}button:focus-visible,input:focus-visible{outline:3px solid #1d63ed;outline-offset:2px}</style></head>' +
    `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
  )
}

/** The parts of the URL, checked; null when the link cannot be one of ours. */
function readLink(c: Context<AppEnv>): { campaignId: string; recipientId: string; token: string } | null {
  const campaignId = c.req.param('campaignId') ?? ''
  const token = c.req.param('token') ?? ''
  if (!campaignId || campaignId.length > MAX_ID_LENGTH || !token || token.length > MAX_TOKEN_LENGTH) return null
  const recipientId = c.get('deps').tokens.verify(campaignId, token)
  return recipientId === null ? null : { campaignId, recipientId, token }
}

function invalid(c: Context<AppEnv>) {
  return c.body(
    page('This unsubscribe link is not valid', '<p>The link may have been cut or changed on the way. Open it again from the e-mail you received, or reply to that e-mail to be removed.</p>'),
    400,
    PAGE_HEADERS,
  )
}

function unsubscribeEvent(c: Context<AppEnv>, campaignId: string, recipientId: string): TrackedEvent {
  const deps = c.get('deps')
  const req = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  const ip = req ? anonymizeIp(clientIp(req, deps.config.trustProxy), deps.config.ipV4Prefix, deps.config.ipV6Prefix) : ''
  return makeEvent({
    eventId: 'u-' + nanoid(16),
    type: 'unsubscribe',
    ts: deps.clock(),
    campaignId,
    recipientId,
    tokenValid: true,
    method: 'POST',
    ip,
    userAgent: c.req.header('user-agent') ?? '',
    referer: c.req.header('referer') ?? '',
    // Only a POST unsubscribes, and link scanners and image proxies do not POST.
    class: 'human',
    classifierVersion: CLASSIFIER_VERSION,
  })
}

/** The frequencies a reader can pick on the page: at most one a week, one a month, or no limit. */
const FREQUENCIES: Record<string, { label: string; frequency: Frequency | null }> = {
  any: { label: 'As often as there is something to send', frequency: null },
  P7D: { label: 'At most one e-mail a week', frequency: { max: 1, windowDays: 7 } },
  P30D: { label: 'At most one e-mail a month', frequency: { max: 1, windowDays: 30 } },
}

const frequencyKey = (f: Frequency | null): string => Object.entries(FREQUENCIES).find(([, v]) => JSON.stringify(v.frequency) === JSON.stringify(f))?.[0] ?? 'custom'

/** Readers' pages are small forms: anything bigger is not one of ours. */
const MAX_FORM_BYTES = 16 * 1024

interface PageContext {
  sender: string
  brand: CampaignBrand | undefined
  category: string
  topics: string[]
  preferences: Preferences
}

async function pageContext(c: Context<AppEnv>, campaignId: string, recipientId: string): Promise<PageContext> {
  const deps = c.get('deps')
  const [campaign] = await findCampaigns(deps, [campaignId])
  const settings = campaign?.settings ?? {}
  const category = settings.category ?? ''
  const known = await knownCategories(deps)
  const topics = [...new Set([...known, ...(category && category !== TRANSACTIONAL ? [category] : [])])].sort()
  return { sender: settings.brand?.name ?? campaign?.name ?? campaignId, brand: settings.brand, category, topics, preferences: await getPreferences(deps, recipientId) }
}

function preferencePage(action: string, p: PageContext, notice = ''): string {
  const sender = escapeHtml(p.sender)
  const which = p.category ? ` This e-mail was one of its <strong>${escapeHtml(p.category)}</strong> e-mails.` : ''
  const topics = p.topics.length
    ? '<fieldset><legend>The e-mails I want</legend>' +
      p.topics
        .map((t) => `<label><input type="checkbox" name="topic" value="${escapeHtml(t)}"${p.preferences.categories[t] === false ? '' : ' checked'}> ${escapeHtml(t)}</label>`)
        .join('') +
      '</fieldset>'
    : ''
  const current = frequencyKey(p.preferences.maxPerWindow)
  const frequency =
    '<fieldset><legend>How often</legend>' +
    Object.entries(FREQUENCIES)
      .map(([k, v]) => `<label><input type="radio" name="frequency" value="${k}"${k === current || (current === 'custom' && k === 'any') ? ' checked' : ''}> ${escapeHtml(v.label)}</label>`)
      .join('') +
    '</fieldset>'
  return page(
    `Your e-mails from ${p.sender}`,
    notice +
      `<p>You receive these e-mails from <strong>${sender}</strong>.${which}</p>` +
      `<section><h2>Unsubscribe from everything</h2><p>No more e-mails of any kind from ${sender}, starting immediately.</p>` +
      `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
      '<button type="submit">Unsubscribe from everything</button></form></section>' +
      `<section><h2>Or choose what you receive</h2><form method="post" action="${escapeHtml(action)}"><input type="hidden" name="action" value="preferences">` +
      topics +
      frequency +
      '<button type="submit" class="quiet">Save my choices</button></form><p>Your choices apply immediately, from the next e-mail.</p></section>' +
      '<p>Nothing changes until you press a button.</p>',
    p.brand,
  )
}

/**
 * GET /u/:campaignId/:token shows the reader's page and changes nothing (mail scanners follow
 * every link): unsubscribe from everything, or choose topics and frequency. A POST unsubscribes
 * from everything (RFC 8058 one-click, or the page's first button), unless it is the page's
 * preference form (`action=preferences`), which saves the reader's choices instead. Outside /v1:
 * readers carry no API key, the signed token is the authority.
 */
export function registerUnsubscribeRoutes(app: Hono<AppEnv>): void {
  app.use('/u/*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.body(page('This request is too large', '<p>Open the link again from the e-mail you received.</p>'), 413, { ...PAGE_HEADERS, Connection: 'close' }) }))

  app.get('/u/:campaignId/:token', async (c) => {
    const link = readLink(c)
    if (!link) return invalid(c)
    const action = `/u/${encodeURIComponent(link.campaignId)}/${encodeURIComponent(link.token)}`
    return c.body(preferencePage(action, await pageContext(c, link.campaignId, link.recipientId)), 200, PAGE_HEADERS)
  })

  app.post('/u/:campaignId/:token', async (c) => {
    const link = readLink(c)
    if (!link) return invalid(c)
    const deps = c.get('deps')
    const form = await readForm(c)
    if (form?.get('action') === 'preferences') {
      const ctx = await pageContext(c, link.campaignId, link.recipientId)
      const chosen = new Set(form.getAll('topic'))
      // Only the topics the page showed change; any other stored choice stays as it was.
      const categories = { ...ctx.preferences.categories, ...Object.fromEntries(ctx.topics.map((t) => [t, chosen.has(t)])) }
      const picked = FREQUENCIES[form.get('frequency') ?? '']
      const maxPerWindow = picked ? picked.frequency : ctx.preferences.maxPerWindow
      const saved = await setPreferences(deps, link.recipientId, { categories, maxPerWindow }, { source: 'reader', campaignId: link.campaignId })
      const action = `/u/${encodeURIComponent(link.campaignId)}/${encodeURIComponent(link.token)}`
      return c.body(preferencePage(action, { ...ctx, preferences: saved }, '<p role="status"><strong>Your choices are saved.</strong> They apply from the next e-mail.</p>'), 200, PAGE_HEADERS)
    }
    const created = await addSuppression(deps, {
      recipientId: link.recipientId,
      scope: GLOBAL_SCOPE,
      reason: 'unsubscribe',
      campaignId: link.campaignId,
      at: new Date(deps.clock()),
    })
    // One event per unsubscription: a repeated POST (a client retrying, the page reloaded)
    // finds the suppression in place and records nothing more.
    if (created) await deps.journal.appendAsync(encodeEvent(unsubscribeEvent(c, link.campaignId, link.recipientId)))
    const [campaign] = await findCampaigns(deps, [link.campaignId])
    const sender = campaign?.settings.brand?.name ?? campaign?.name ?? link.campaignId
    return c.body(
      page('You are unsubscribed', `<p>You will not receive any more e-mails from <strong>${escapeHtml(sender)}</strong>. This is immediate. You can close this page.</p>`, campaign?.settings.brand),
      200,
      PAGE_HEADERS,
    )
  })
}

/** The form fields of a POST (urlencoded or multipart), or null when the body is none of these: a bare one-click POST still unsubscribes. */
async function readForm(c: Context<AppEnv>): Promise<{ get(k: string): string | undefined; getAll(k: string): string[] } | null> {
  const type = c.req.header('content-type') ?? ''
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return null
  try {
    const body = await c.req.parseBody({ all: true })
    const values = (k: string) => {
      const v = body[k]
      return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string')
    }
    return { get: (k) => values(k)[0], getAll: values }
  } catch {
    return null
  }
}
