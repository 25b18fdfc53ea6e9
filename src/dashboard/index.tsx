import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getCookie, setCookie } from 'hono/cookie'
import { html } from 'hono/html'
import type { AppEnv } from '../api/context.js'
import { hashKey, verifyApiKey } from '../services/auth-keys.js'
import { authLimiter } from '../services/auth-failures.js'
import { clientIp } from '../tracking/ip.js'
import { audienceResponse, audienceSelection, parseAudienceQuery, type QueryInput } from '../metrics/audience-filter.js'
import { compareCampaigns } from '../metrics/compare.js'
import { compareCampaignConversions } from '../metrics/conversion-compare.js'
import type { Traffic } from '../metrics/sql.js'
import { recentRecipients, searchRecipients, type FoundRecipient, type RecentRecipient } from '../metrics/recipient-search.js'
import { recipientTimeline } from '../metrics/timeline.js'
import { audience, type AudienceRow } from '../metrics/audience.js'
import { findCampaigns, getCampaign, listCampaigns, listLinks } from '../services/campaigns.js'
import { FOLLOW_UP_ROWS, FollowUpPage, linkName } from './pages/follow-up.js'
import { lifecycle } from '../metrics/lifecycle.js'
import { lifecycleTransitions, lifecycleValue } from '../metrics/lifecycle-flow.js'
import { topPurchases } from '../metrics/purchases.js'
import { loadOrCreateSecret } from '../tracking/token.js'
import { DomainError } from '../util/errors.js'
import { canonicalTimeZone } from '../util/time-zone.js'
import type { PageContext } from './layout.js'
import { CampaignPage, loadCampaign, type LinkSort } from './pages/campaign.js'
import { CAMPAIGN_SORTS, CampaignsPage, loadCampaigns, type CampaignSort } from './pages/campaigns.js'
import { HORIZONS, LifecyclePage } from './pages/lifecycle.js'
import { ComparePage, ErrorPage, RecipientPage, SignInPage, type DashboardCompareMetric } from './pages/other.js'
import { loadSequence, loadSequences, SequencePage, SequencesPage } from './pages/sequences.js'
import { loadPressure, PressurePage } from './pages/pressure.js'
import { wallTimeToInstant } from './wall-time.js'
import { getEndpointRow, retryDelivery } from '../outbox/endpoints.js'
import { replayEndpoint } from '../outbox/outbox.js'
import { loadWebhook, loadWebhooks, WebhookPage, WebhooksPage } from './pages/webhooks.js'
import { clearSessionCookie, fingerprintOf, sameOrigin, sessionCookie, Sessions, setSessionCookie, type Session } from './session.js'

/**
 * Scripts only from this origin (no inline script anywhere); inline styles are allowed because the
 * e-mail shown in the click map is styled inline and a srcdoc frame inherits this policy. Images only
 * from this origin and data: URLs: the click map shows the e-mail as sent, and its remote images
 * (a sender's tracking pixel among them) must not be fetched when someone looks at it, which would
 * tell third parties and count opens. The frame narrows this further and runs no script: its sandbox
 * allows only same-origin (so this page's script can measure the e-mail and size the frame to it),
 * never scripts, and its own policy (CLICK_MAP_CSP) refuses every script and fetch.
 */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const here = dirname(fileURLToPath(import.meta.url))
const uplotDir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist')

const ASSETS: Record<string, { file: string; type: string }> = {
  'uPlot.iife.min.js': { file: join(uplotDir, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { file: join(uplotDir, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
  'dashboard.js': { file: join(here, 'assets', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: join(here, 'assets', 'dashboard.css'), type: 'text/css; charset=utf-8' },
}

interface DashEnv extends AppEnv {
  Variables: AppEnv['Variables'] & { session: Session; page: PageContext }
}

const parseTraffic = (v: string | undefined): Traffic => (v === 'machine' || v === 'all' ? v : 'human')
const parseSort = (v: string | undefined): LinkSort => (v === 'clicks' || v === 'unique' ? v : 'position')
const parseMetric = (v: string | undefined): DashboardCompareMetric =>
  v === 'open_rate' || v === 'click_to_open_rate' || v === 'conversion_rate' || v === 'revenue_per_recipient' ? v : 'click_rate'

/**
 * The export form's query as the REST endpoint would get it: a field left blank ("either", "all")
 * is a parameter not given, and the form's from/to are wall times in the page's zone (tz), turned
 * into the instants the API takes. Nothing else is touched: the API's parser does the rest.
 */
function audienceFormQuery(queries: Record<string, string[]>): QueryInput {
  const tz = canonicalTimeZone(queries.tz?.[0] || 'UTC') ?? 'UTC'
  const out: QueryInput = {}
  for (const [name, all] of Object.entries(queries)) {
    const values = all.filter((v) => v !== '')
    if (values.length === 0 || name === 'tz') continue
    if (name === 'convertedWithinDays') {
      // The form asks for days; the API takes a duration.
      const v = values[0]!
      if (!/^[1-9][0-9]{0,3}$/.test(v)) throw new DomainError('validation_failed', `query.convertedWithinDays: a whole number of days (1-9999), got ${JSON.stringify(v.slice(0, 40))}`)
      out.convertedWithin = `${v}d`
    } else if (name === 'from' || name === 'to') {
      const v = values[0]!
      const t = wallTimeToInstant(v, tz)
      if (t === null) throw new DomainError('validation_failed', `query.${name}: expected a date and time such as 2026-11-23T09:00, got ${JSON.stringify(v.slice(0, 40))}`)
      out[name] = new Date(t).toISOString()
    } else {
      out[name] = values.length === 1 ? values[0]! : values
    }
  }
  return out
}

/** The time zone the pages show times in, once chosen. */
const TZ_COOKIE = 'sillage_tz'

/**
 * Only paths inside the dashboard: `next` must never send a signed-in user to another site. Printable
 * ASCII only (a browser sends paths percent-encoded): a CR, LF or other control character would not
 * go into a Location header.
 */
function safeNext(v: unknown): string {
  return typeof v === 'string' && /^\/dashboard(?:[/?#]|$)[\x21-\x7e]*$/.test(v) && !v.includes('\\') ? v : '/dashboard'
}

/** A dashboard form's fields, or null when the body is not a readable form (a malformed multipart body). */
async function readForm(c: Context<AppEnv>): Promise<Record<string, unknown> | null> {
  try {
    return await c.req.parseBody()
  } catch {
    return null
  }
}

function page(c: Context<DashEnv>, node: unknown, status: 200 | 400 | 403 | 404 = 200) {
  c.header('Cache-Control', 'no-store')
  return c.html(html`<!DOCTYPE html>${node}`, status)
}

/** The dashboard: server-rendered pages under /dashboard, signed in with an API key. */
export function registerDashboard(app: OpenAPIHono<AppEnv>): void {
  let sessions: Sessions | null = null
  const sessionsOf = (c: Context<AppEnv>) => {
    const cfg = c.get('deps').config
    sessions ??= new Sessions(loadOrCreateSecret(cfg.dataDir, cfg.trackerSecret))
    return sessions
  }
  const assets = new Map(Object.entries(ASSETS).map(([name, a]) => [name, { body: readFileSync(a.file), type: a.type }]))

  // '/dashboard/*' matches '/dashboard' itself too: one registration, run once per request.
  app.use('/dashboard/*', headers)
  async function headers(c: Context<AppEnv>, next: () => Promise<void>) {
    await next()
    c.header('Content-Security-Policy', CSP)
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'same-origin')
    c.header('X-Frame-Options', 'DENY')
  }

  // A refused or failed request reaches the app's error or not-found handler, which answers the API's
  // JSON error; under /dashboard a person reads it, so it becomes a page in the dashboard's layout,
  // with the same status and message (the mapping of errors to both stays in one place).
  app.use('/dashboard/*', async (c, next) => {
    await next()
    const res = c.res
    if (res.status < 400 || !/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) return
    const body = (await res.clone().json().catch(() => null)) as { error?: { message?: unknown; requestId?: unknown } } | null
    const message = typeof body?.error?.message === 'string' ? body.error.message : 'The request failed.'
    const requestId = typeof body?.error?.requestId === 'string' ? body.error.requestId : undefined
    const ctx = (c.get('page' as never) as PageContext | undefined) ?? { csrf: null, keyId: null }
    const doc = await html`<!DOCTYPE html>${<ErrorPage status={res.status} message={message} requestId={requestId} ctx={ctx} />}`
    c.res = new Response(String(doc), { status: res.status, headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Cache-Control': 'no-store' } })
    // Hono carries the failed response's headers over: a cookie set before the failure must not be.
    c.res.headers.delete('set-cookie')
  })

  // Dashboard forms are a few fields: anything larger is refused before it is read.
  app.use('/dashboard/*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('form too large', 413) }))

  app.get('/dashboard/assets/:name', (c) => {
    const a = assets.get(c.req.param('name'))
    if (!a) return c.text('not found', 404)
    // Names are fixed and change only with a release: a day of caching, revalidated after.
    return c.body(a.body, 200, { 'Content-Type': a.type, 'Cache-Control': 'public, max-age=86400' })
  })

  app.get('/dashboard/sign-in', (c) => page(c as never, <SignInPage error={null} next={safeNext(c.req.query('next'))} />))

  app.post('/dashboard/sign-in', async (c) => {
    if (!sameOrigin(c)) return c.text('cross-site request refused', 403)
    const form = await readForm(c)
    if (!form) return c.text('malformed form body', 400)
    const key = typeof form.key === 'string' ? form.key.trim() : ''
    const next = safeNext(form.next)
    const deps = c.get('deps')
    // Wrong keys count against the address as on the API (401 and 403 alike).
    const limiter = authLimiter(deps)
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
    const address = incoming ? clientIp(incoming, deps.config.trustProxy) : ''
    const wait = limiter.retryAfter(address)
    if (wait > 0) return c.text(`too many failed sign-ins from this address; retry in ${wait} s`, 429, { 'Retry-After': String(wait) })
    const found = key && key.length <= 512 ? await verifyApiKey(deps, key) : null
    if (!found) {
      limiter.fail(address)
      return page(c as never, <SignInPage error="That API key is not valid." next={next} />, 403)
    }
    // verifyApiKey found the key by this hash: it is the stored one.
    setSessionCookie(c, sessionsOf(c).issue(found.id, fingerprintOf(hashKey(key)), Date.now()))
    return c.redirect(next, 303)
  })

  const auth = async (c: Context<DashEnv>, next: () => Promise<void>) => {
    const path = c.req.path
    if (path === '/dashboard/sign-in' || path.startsWith('/dashboard/assets/')) return next()
    const ss = sessionsOf(c as never)
    const s = ss.read(sessionCookie(c as never), Date.now())
    if (!s || !(await ss.keyStillValid(c.get('deps'), s))) {
      if (c.req.method === 'GET') {
        const url = new URL(c.req.url)
        return c.redirect(`/dashboard/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303) as never
      }
      return c.text('sign in first', 401) as never
    }
    c.set('session', s)
    c.set('page', { csrf: ss.csrfToken(s), keyId: s.keyId, tz: canonicalTimeZone(getCookie(c, TZ_COOKIE) ?? 'UTC') ?? 'UTC' })
    return next()
  }
  const dash = app as unknown as OpenAPIHono<DashEnv>
  dash.use('/dashboard/*', auth)

  dash.post('/dashboard/sign-out', async (c) => {
    const form = await readForm(c as never)
    if (!form) return c.text('malformed form body', 400)
    if (!sameOrigin(c as never) || !sessionsOf(c as never).checkCsrf(c.get('session'), form._csrf)) return c.text('invalid form token', 403)
    await sessionsOf(c as never).end(c.get('deps'), c.get('session'), Date.now())
    clearSessionCookie(c as never)
    return c.redirect('/dashboard/sign-in', 303)
  })

  dash.get('/dashboard', async (c) => {
    const traffic = parseTraffic(c.req.query('traffic'))
    const n = Math.max(0, Math.min(10_000, Number.parseInt(c.req.query('page') ?? '0', 10) || 0))
    const { rows, more } = await loadCampaigns(c.get('deps'), traffic, n)
    const sortq = c.req.query('sort')
    const sort: CampaignSort = CAMPAIGN_SORTS.find((x) => x === sortq) ?? 'created'
    return page(c, <CampaignsPage rows={rows} traffic={traffic} page={n} more={more} sort={sort} ctx={c.get('page')} />)
  })

  dash.get('/dashboard/campaigns/:id', async (c) => {
    // A zone chosen once is remembered (a cookie of this browser) until another is chosen.
    const asked = c.req.query('tz')
    const tz = canonicalTimeZone(asked ?? getCookie(c, TZ_COOKIE) ?? 'UTC') ?? 'UTC'
    if (asked !== undefined && canonicalTimeZone(asked) !== null) {
      setCookie(c, TZ_COOKIE, tz, { path: '/dashboard', sameSite: 'Strict', httpOnly: true, secure: new URL(c.req.url).protocol === 'https:', maxAge: 365 * 86_400 })
    }
    const view = await loadCampaign(c.get('deps'), c.req.param('id'), parseTraffic(c.req.query('traffic')), tz, parseSort(c.req.query('sort')))
    return page(c, <CampaignPage view={view} page={{ ...c.get('page'), tz }} />)
  })

  // The REST audience endpoint's parser and query: the same parameters select the same people.
  dash.get('/dashboard/campaigns/:id/audience.csv', async (c) => {
    const deps = c.get('deps')
    const id = c.req.param('id')
    const params = parseAudienceQuery(audienceFormQuery(c.req.queries()))
    const selection = await audienceSelection(deps, id, params)
    const names = new Map((await listLinks(deps, id)).map((l) => [l.id, linkName(l)]))
    return audienceResponse(deps, id, selection, 'csv', names)
  })

  // The same selection as the CSV, counted and shown before anyone downloads it.
  dash.get('/dashboard/campaigns/:id/follow-up', async (c) => {
    const deps = c.get('deps')
    const id = c.req.param('id')
    const query = c.req.queries()
    const params = parseAudienceQuery(audienceFormQuery(query))
    const campaign = await getCampaign(deps, id)
    const sel = await audienceSelection(deps, id, params)
    const links = await listLinks(deps, id)
    const names = new Map(links.map((l) => [l.id, linkName(l)]))
    const rows: AudienceRow[] = []
    let count = 0
    for await (const r of audience(deps.events, id, sel.filter, sel.window)) {
      count++
      if (rows.length < FOLLOW_UP_ROWS) rows.push(r)
    }
    const f = sel.filter
    const conditions = [
      ...f.clicked.map((l) => `clicked ${names.get(l)}`),
      ...f.notClicked.map((l) => `did not click ${names.get(l)}`),
      ...(f.opened === undefined ? [] : [f.opened ? 'opened' : 'never opened']),
      ...(f.converted === undefined ? [] : [`${f.converted ? 'bought' : 'did not buy'}${f.convertedWithinMs ? ` within ${Math.round(f.convertedWithinMs / 86_400_000)} days of the send` : ''}`]),
      ...(f.segment !== undefined ? [`segment ${f.segment}`] : []),
      ...(f.variant !== undefined ? [`variant ${f.variant}`] : []),
      ...f.attributes.map((a) => `${a.name} is ${a.value}`),
    ]
    const csvQuery = new URLSearchParams(Object.entries(query).flatMap(([k, vs]) => vs.map((v) => [k, v] as [string, string])))
    const csvHref = `/dashboard/campaigns/${encodeURIComponent(id)}/audience.csv?${csvQuery}`
    return page(c, <FollowUpPage view={{ campaign, conditions, count, rows, linkNames: names, csvHref }} page={c.get('page')} />)
  })

  dash.get('/dashboard/compare', async (c) => {
    const deps = c.get('deps')
    const traffic = parseTraffic(c.req.query('traffic'))
    const metric = parseMetric(c.req.query('metric'))
    const selected = [...new Set((c.req.queries('campaigns') ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))].slice(0, 20)
    // The picker offers the newest campaigns, and always the selected ones, however old.
    const recent = await listCampaigns(deps, { limit: 200, offset: 0, newestFirst: true })
    const found = await findCampaigns(deps, selected)
    const campaigns = [...found.filter((f) => !recent.some((r) => r.id === f.id)), ...recent]
    const known = new Set(campaigns.map((x) => x.id))
    const unknown = selected.filter((s) => !known.has(s))
    let error: string | null = null
    let comparison = null
    if (unknown.length) error = `Unknown campaign: ${unknown.join(', ')}`
    else if (selected.length === 1) error = 'Pick at least two campaigns.'
    else if (selected.length >= 2) {
      try {
        // The functions behind GET /v1/compare, conversion metrics included.
        comparison =
          metric === 'conversion_rate' || metric === 'revenue_per_recipient'
            ? await compareCampaignConversions(deps.events, selected, metric, 0.05, { traffic })
            : await compareCampaigns(deps.events, selected, metric, 0.05, { traffic })
      } catch (err) {
        // No revenue in these campaigns: said on the page, with the form to pick another metric.
        if (!(err instanceof DomainError) || err.code !== 'validation_failed') throw err
        error = 'No revenue recorded for these campaigns: nothing to compare per recipient.'
      }
    }
    return page(c, <ComparePage campaigns={campaigns} selected={selected} metric={metric} traffic={traffic} comparison={comparison} error={error} ctx={c.get('page')} />, error ? 400 : 200)
  })

  dash.get('/dashboard/sequences', async (c) => page(c, <SequencesPage rows={await loadSequences(c.get('deps'))} ctx={c.get('page')} />))

  dash.get('/dashboard/sequences/:id', async (c) => {
    const q = c.req.query('cohort')
    const cohort = q === 'day' || q === 'month' ? q : 'week'
    const view = await loadSequence(c.get('deps'), c.req.param('id'), parseTraffic(c.req.query('traffic')), cohort)
    return page(c, <SequencePage view={view} page={c.get('page')} />)
  })

  // Same metrics as GET /v1/pressure, /v1/pressure/fatigue and /v1/engagement; bad input is a 400 page with the form.
  dash.get('/dashboard/pressure', async (c) => {
    const q = { window: (c.req.query('window') ?? 'P30D').trim().slice(0, 16), category: (c.req.query('category') ?? '').trim().slice(0, 64), weekly: c.req.query('weekly') === '1' }
    const view = await loadPressure(c.get('deps'), q)
    return page(c, <PressurePage view={view} ctx={c.get('page')} />, view.error ? 400 : 200)
  })

  dash.get('/dashboard/lifecycle', async (c) => {
    const deps = c.get('deps')
    const asked = Number(c.req.query('horizon'))
    const horizonDays = (HORIZONS as readonly number[]).includes(asked) ? asked : 90
    const now = deps.clock()
    // One after the other: chDB runs one query at a time anyway.
    const lifecycleNow = await lifecycle(deps.events, { now })
    const value = await lifecycleValue(deps.events, { at: now, horizonDays, kind: 'purchase' })
    const transitions = await lifecycleTransitions(deps.events, { at: now, horizonDays, windows: 1, kind: 'purchase' })
    const products = await topPurchases(deps.events, { by: 'product', kind: 'purchase', to: now, limit: 20 })
    return page(c, <LifecyclePage view={{ horizonDays, lifecycle: lifecycleNow, value, transitions, products: products.rows }} ctx={c.get('page')} />)
  })

  dash.get('/dashboard/recipients', async (c) => {
    const deps = c.get('deps')
    const id = (c.req.query('id') ?? '').trim().slice(0, 512)
    const traffic = parseTraffic(c.req.query('traffic'))
    let timeline = null
    let found: FoundRecipient[] = []
    let recent: RecentRecipient[] = []
    if (id) {
      timeline = await recipientTimeline(deps.events, deps.meta, id, { traffic }, { limit: 50, cursor: c.req.query('cursor') || undefined })
      found = await searchRecipients(deps.events, id)
    } else {
      recent = await recentRecipients(deps.events, traffic)
    }
    return page(c, <RecipientPage id={id} traffic={traffic} timeline={timeline} found={found} recent={recent} ctx={c.get('page')} />)
  })

  dash.get('/dashboard/webhooks', async (c) => {
    const { endpoints, triggers } = await loadWebhooks(c.get('deps'))
    return page(c, <WebhooksPage endpoints={endpoints} triggers={triggers} ctx={c.get('page')} />)
  })

  const parseStatus = (v: string | undefined) => (v === 'pending' || v === 'succeeded' || v === 'failed' ? v : undefined)
  dash.get('/dashboard/webhooks/:id', async (c) => {
    const view = await loadWebhook(c.get('deps'), c.req.param('id'), parseStatus(c.req.query('status')))
    const notice = c.req.query('replayed') !== undefined ? `Queued ${c.req.query('replayed')} events again.` : c.req.query('retried') !== undefined ? 'Delivery queued.' : null
    return page(c, <WebhookPage view={view} ctx={c.get('page')} notice={notice} />)
  })

  /** A dashboard form's POST: same origin and the session's CSRF token, or 403. */
  const checkedForm = async (c: Context<DashEnv>) => {
    const form = await c.req.parseBody()
    if (!sameOrigin(c as never) || !sessionsOf(c as never).checkCsrf(c.get('session'), form._csrf)) throw new DomainError('forbidden', 'invalid form token')
    return form
  }

  dash.post('/dashboard/webhooks/:id/deliveries/:deliveryId/retry', async (c) => {
    await checkedForm(c)
    const id = c.req.param('id')
    await retryDelivery(c.get('deps'), id, c.req.param('deliveryId'))
    return c.redirect(`/dashboard/webhooks/${encodeURIComponent(id)}?retried`, 303)
  })

  dash.post('/dashboard/webhooks/:id/replay', async (c) => {
    const form = await checkedForm(c)
    const deps = c.get('deps')
    const id = c.req.param('id')
    const [from, to] = (['from', 'to'] as const).map((k) => {
      const t = typeof form[k] === 'string' ? wallTimeToInstant(form[k], 'UTC') : null
      if (t === null) throw new DomainError('validation_failed', `${k}: expected a date and time such as 2026-11-23T09:00`)
      return t
    })
    const r = await replayEndpoint(deps, await getEndpointRow(deps, id), from!, to!)
    return c.redirect(`/dashboard/webhooks/${encodeURIComponent(id)}?replayed=${r.queued}`, 303)
  })
}
