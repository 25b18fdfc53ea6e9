import { Parser } from 'htmlparser2'
import { renderCompiled, type CompiledTemplate } from '../rewrite/index.js'
import { escapeHtml } from '../util/html.js'

export interface ClickMapLink {
  position: number
  url: string
  label: string
  clicks: number
  uniqueClickers: number
}

const SENTINEL = 'https://sillage-clickmap.invalid/link/'
const HONEYPOT = 'https://sillage-clickmap.invalid/honeypot'
/** A transparent 1×1 GIF: the preview must never load the real open pixel (that would count an open). */
const BLANK_GIF = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'

/**
 * The frame's own policy, on top of the page's (a srcdoc frame inherits that one): nothing is
 * fetched, not even from this origin (an e-mail may embed a pixel of this very tracker); images and
 * fonts only as data: URLs, styles only inline.
 */
export const CLICK_MAP_CSP = "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'"
const CSP_META = `<meta http-equiv="Content-Security-Policy" content="${CLICK_MAP_CSP}">`

/** A grey box standing for a remote image: the frame fetches nothing, but the layout keeps its shape. */
const IMAGE_PLACEHOLDER =
  'data:image/svg+xml,' +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" preserveAspectRatio="none"><rect width="100" height="100" fill="#e3e5ea"/><path d="M0 0L100 100M100 0L0 100" stroke="#c4c7cf" stroke-width="1"/></svg>')

/**
 * Remote images (http, https, protocol-relative) pointed at the placeholder, keeping their width,
 * height, alt and style: the report shows where each image sits without any request to the
 * sender's image hosts (the frame's policy would block it anyway, leaving broken-image icons).
 */
export function placeholdImages(html: string): string {
  return html.replace(/<img\b[^>]*>/gi, (tag) =>
    tag.replace(/(\ssrc\s*=\s*)("\s*(?:https?:)?\/\/[^"]*"|'\s*(?:https?:)?\/\/[^']*'|(?:https?:)?\/\/[^\s>]+)/i, (_, before: string) => `${before}"${IMAGE_PLACEHOLDER}"`),
  )
}

export function percent(share: number): string {
  if (share === 0) return '0%'
  if (share < 0.001) return '<0.1%'
  return share < 0.1 ? `${(share * 100).toFixed(1)}%` : `${Math.round(share * 100)}%`
}

/**
 * The heat scale of the badges: grey for a link nobody clicked, then from amber (few clicks) to
 * deep red (the most clicked link), each step dark enough for white text.
 */
export function heat(relative: number): string {
  if (!(relative > 0)) return '#5f6368'
  const t = Math.min(1, relative)
  // Amber #b06000 to red #8c1d18, both with white text above 4.5:1 contrast.
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t)
  return `rgb(${mix(0xb0, 0x8c)},${mix(0x60, 0x1d)},${mix(0x00, 0x18)})`
}

const BADGE_STYLE =
  'display:inline-block;margin:0 0 0 4px;padding:1px 6px;border-radius:9px;color:#fff;' +
  'font:bold 12px/16px system-ui,sans-serif;vertical-align:middle;text-decoration:none;white-space:nowrap'

/**
 * The e-mail as sent, for the dashboard's sandboxed frame: each tracked link points at its
 * destination and is followed by a badge with its share of the template's clicks. Links are found
 * by rendering the compiled template with a sentinel URL per position and locating the end of each
 * sentinel's element with a real HTML parser; every inserted value is escaped.
 */
export function clickMapHtml(compiled: CompiledTemplate, links: ClickMapLink[]): string {
  const html = renderCompiled(compiled, {
    linkUrl: (p) => `${SENTINEL}${p}`,
    pixelUrl: BLANK_GIF,
    honeypotUrl: HONEYPOT,
    // The reader's unsubscribe page needs a token: the report shows no working link.
    unsubscribeUrl: '#',
  }).html
  const byPosition = new Map(links.map((l) => [l.position, l]))
  const total = links.reduce((s, l) => s + l.clicks, 0)
  const inserts: Array<{ at: number; text: string }> = []
  const open: Array<{ position: number | null }> = []
  const most = Math.max(0, ...links.map((l) => l.clicks))
  const badge = (l: ClickMapLink) => {
    const share = total > 0 ? l.clicks / total : 0
    const title = `${l.label || l.url}: ${l.clicks} clicks (${percent(share)} of all clicks), ${l.uniqueClickers} unique clickers`
    const style = `${BADGE_STYLE};background:${heat(most > 0 ? l.clicks / most : 0)}`
    return `<span class="sillage-badge" data-position="${l.position}" title="${escapeHtml(title)}" style="${style}">${escapeHtml(`${l.clicks.toLocaleString('en-US')} · ${percent(share)}`)}</span>`
  }
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name !== 'a') return
        const href = attribs.href ?? ''
        open.push({ position: href.startsWith(SENTINEL) ? Number(href.slice(SENTINEL.length)) : null })
      },
      onclosetag(name) {
        if (name !== 'a') return
        const top = open.pop()
        const l = top?.position != null ? byPosition.get(top.position) : undefined
        if (l) inserts.push({ at: parser.endIndex + 1, text: badge(l) })
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  )
  parser.write(html)
  parser.end()
  let out = ''
  let last = 0
  for (const ins of inserts.sort((a, b) => a.at - b.at)) {
    out += html.slice(last, ins.at) + ins.text
    last = ins.at
  }
  out += html.slice(last)
  // Sentinels sit in attribute values only (the HTML part): write each destination encoded for an attribute.
  const page = out
    .replace(/https:\/\/sillage-clickmap\.invalid\/link\/(\d+)/g, (_, p: string) => escapeHtml(byPosition.get(Number(p))?.url ?? '#'))
    .replaceAll(HONEYPOT, '#')
  const shown = placeholdImages(page)
  // After the doctype, if any (anything before it would switch the e-mail to quirks mode); a meta
  // before <html> lands in the document's head all the same.
  const doctype = /^\s*<!doctype[^>]*>/i.exec(shown)
  const at = doctype ? doctype[0].length : 0
  return shown.slice(0, at) + CSP_META + shown.slice(at)
}
