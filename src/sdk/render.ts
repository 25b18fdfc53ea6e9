import { renderCompiled } from '../rewrite/render.js'
import type { CompiledTemplate, RenderUrls } from '../rewrite/types.js'
import { clickUrl, pixelUrl, unsubscribeUrl } from '../services/sends.js'

/** A compiled template with the ids its links were registered under: what the API stores and returns. */
export interface RenderableTemplate {
  campaignId: string
  compiled: CompiledTemplate
  /** Every tracked occurrence's link id, by its 1-based position in `compiled.links`. */
  links: Array<{ id: string; position: number }>
  /** Link id of the honeypot, when the template has one. */
  honeypotLinkId?: string | null | undefined
}

export interface RenderedRecipient {
  id: string
  html: string
  /** Null when the template has no text part. */
  text: string | null
  headers: {
    'List-Unsubscribe': string
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'
  }
}

export interface RendererOptions {
  /** Public base URL of the sillage server, without trailing slash. */
  publicBaseUrl: string
  /** Signs the (campaign, recipient) token, exactly as the server does. */
  sign(campaignId: string, recipientId: string): string
  /** A `mailto:` URL added after the HTTPS one in List-Unsubscribe (RFC 2369), for clients without one-click. */
  unsubscribeMailto?: string | undefined
}

/** `address` or `mailto:address?…` → the mailto URL; null when it cannot sit inside `<…>` of a header. */
export function normaliseMailto(value: string): string | null {
  const v = value.trim()
  const url = /^mailto:/i.test(v) ? v : `mailto:${v}`
  if (!/^mailto:[^\s<>,@]+@[^\s<>,@]+$/i.test(url.split('?')[0]!) || /[\s<>\r\n]/.test(url)) return null
  return url
}

/**
 * Builds a per-recipient renderer: the click-URL prefixes and header tail are computed once,
 * so a render is one HMAC and the concatenation of precomputed fragments (no parsing).
 */
export function createRenderer(template: RenderableTemplate, options: RendererOptions): (recipientId: string) => RenderedRecipient {
  const base = options.publicBaseUrl.replace(/\/+$/, '')
  const { campaignId, compiled } = template
  const prefixes: string[] = []
  for (const l of template.links) prefixes[l.position] = clickUrl(base, l.id, '')
  for (const occ of compiled.links) {
    if (prefixes[occ.position] === undefined) throw new Error(`template link at position ${occ.position} has no link id`)
  }
  if (compiled.honeypot && !template.honeypotLinkId) throw new Error('the template has a honeypot: honeypotLinkId is required')
  const honeypotPrefix = compiled.honeypot ? clickUrl(base, template.honeypotLinkId!, '') : ''
  let mailtoTail = ''
  if (options.unsubscribeMailto) {
    const mailto = normaliseMailto(options.unsubscribeMailto)
    if (mailto === null) throw new Error(`not a usable mailto address: ${options.unsubscribeMailto}`)
    mailtoTail = `, <${mailto}>`
  }
  let token = ''
  const urls: RenderUrls = { linkUrl: (position) => prefixes[position]! + token }
  return (recipientId) => {
    token = options.sign(campaignId, recipientId)
    if (compiled.pixel) urls.pixelUrl = pixelUrl(base, campaignId, token)
    if (compiled.honeypot) urls.honeypotUrl = honeypotPrefix + token
    const out = renderCompiled(compiled, urls)
    return {
      id: recipientId,
      html: out.html,
      text: out.text,
      headers: {
        'List-Unsubscribe': `<${unsubscribeUrl(base, campaignId, token)}>${mailtoTail}`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    }
  }
}
