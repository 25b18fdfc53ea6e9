import type { IncomingMessage } from 'node:http'
import type { Context, Hono } from 'hono'
import { nanoid } from 'nanoid'
import type { AppEnv } from '../../context.js'
import { encodeEvent, makeEvent, type TrackedEvent } from '../../../events/event.js'
import { addSuppression, GLOBAL_SCOPE } from '../../../services/suppressions.js'
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


function page(title: string, body: string): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}' +
    'button{font:inherit;padding:.6rem 1.2rem;border:2px solid #1a1a1a;border-radius:.3rem;background:#1a1a1a;color:#fff;cursor:pointer}' +
    'button:focus-visible{outline:3px solid #1d63ed;outline-offset:2px}</style></head>' +
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

/**
 * GET /u/:campaignId/:token shows a confirmation page and changes nothing (mail scanners
 * follow every link); POST to the same URL unsubscribes (RFC 8058 one-click, or the page's
 * button). Outside /v1: readers carry no API key, the signed token is the authority.
 */
export function registerUnsubscribeRoutes(app: Hono<AppEnv>): void {
  app.get('/u/:campaignId/:token', (c) => {
    const link = readLink(c)
    if (!link) return invalid(c)
    const action = `/u/${encodeURIComponent(link.campaignId)}/${encodeURIComponent(link.token)}`
    return c.body(
      page(
        'Unsubscribe',
        '<p>Do you want to stop receiving these e-mails?</p>' +
          `<form method="post" action="${escapeHtml(action)}">` +
          '<input type="hidden" name="List-Unsubscribe" value="One-Click">' +
          '<button type="submit">Unsubscribe</button></form>' +
          '<p>Nothing changes until you press the button.</p>',
      ),
      200,
      PAGE_HEADERS,
    )
  })

  app.post('/u/:campaignId/:token', async (c) => {
    const link = readLink(c)
    if (!link) return invalid(c)
    const deps = c.get('deps')
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
    return c.body(page('You are unsubscribed', '<p>You will not receive these e-mails any more. You can close this page.</p>'), 200, PAGE_HEADERS)
  })
}
