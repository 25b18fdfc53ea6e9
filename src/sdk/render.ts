import { renderCompiled } from '../rewrite/render.js'
import type { CompiledTemplate, Fragment, RenderUrls } from '../rewrite/types.js'
import { clickUrl, pixelUrl, unsubscribeUrl } from '../tracking/urls.js'

/** A compiled template with the ids its links were registered under: what the API stores and returns. */
export interface RenderableTemplate {
  campaignId: string
  compiled: CompiledTemplate
  /** Every tracked occurrence's link id, by its 1-based position in `compiled.links`. */
  links: Array<{ id: string; position: number }>
  /** Link id of the honeypot, when the template has one. */
  honeypotLinkId?: string | null | undefined
  /** The campaign's tracking base URL (its branded domain), as the API returns the template; the SDK renders on it. */
  trackingBaseUrl?: string | undefined
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
    const unsubscribe = unsubscribeUrl(base, campaignId, token)
    if (compiled.unsubscribe) urls.unsubscribeUrl = unsubscribe
    const out = renderCompiled(compiled, urls)
    return {
      id: recipientId,
      html: out.html,
      text: out.text,
      headers: {
        'List-Unsubscribe': `<${unsubscribe}>${mailtoTail}`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    }
  }
}

/**
 * The template with its literal fragments JSON-escaped once, so a JSON line is built by the
 * same concatenation instead of escaping 40 KB per recipient. Null when that could differ
 * from JSON.stringify: a fragment edge that splits a surrogate pair.
 */
function jsonEscaped(compiled: CompiledTemplate): CompiledTemplate | null {
  const escape = (parts: Fragment[]): Fragment[] | null => {
    const out: Fragment[] = []
    for (const p of parts) {
      if (typeof p === 'string') {
        if (/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(p)) return null
        out.push(JSON.stringify(p).slice(1, -1))
      } else if (p.kind === 'link' && p.encoding === 'attr-unquoted') {
        // An unquoted href is written between double quotes, which JSON escapes.
        out.push('\\"', { ...p, encoding: 'attr-double' }, '\\"')
      } else out.push(p)
    }
    return out
  }
  const html = escape(compiled.html)
  const text = compiled.text === null ? null : escape(compiled.text)
  if (html === null || (compiled.text !== null && text === null)) return null
  return { ...compiled, html, text }
}

/**
 * Renders a recipient straight to its JSON text, byte for byte `JSON.stringify` of what
 * `createRenderer` returns (plus `extra` fields appended), without escaping the page per recipient.
 */
export function createJsonRenderer(
  template: RenderableTemplate,
  options: RendererOptions,
): (recipientId: string, extra?: Record<string, unknown>) => string {
  const plain = createRenderer(template, options)
  const escaped = jsonEscaped(template.compiled)
  // Tracked URLs are the base URL, ids, base64url tokens and the percent-encoded campaign id:
  // they never need JSON escaping unless the configured base URL itself does.
  const base = options.publicBaseUrl.replace(/\/+$/, '')
  if (escaped === null || JSON.stringify(base) !== `"${base}"`) {
    return (id, extra) => JSON.stringify(extra ? { ...plain(id), ...extra } : plain(id))
  }
  const fast = createRenderer({ ...template, compiled: escaped }, options)
  return (id, extra) => {
    const r = fast(id)
    let line =
      '{"id":' + JSON.stringify(id) +
      ',"html":"' + r.html +
      '","text":' + (r.text === null ? 'null' : '"' + r.text + '"') +
      ',"headers":{"List-Unsubscribe":' + JSON.stringify(r.headers['List-Unsubscribe']) +
      ',"List-Unsubscribe-Post":"List-Unsubscribe=One-Click"}'
    if (extra) for (const k in extra) if (extra[k] !== undefined) line += ',' + JSON.stringify(k) + ':' + JSON.stringify(extra[k])
    return line + '}'
  }
}
