import { QuoteType } from 'htmlparser2'
import { RewriteError } from './errors.js'
import { scanHtml } from './html.js'
import { scanText } from './text.js'
import type {
  CompileOptions,
  CompiledTemplate,
  Fragment,
  LinkEncoding,
  LinkOccurrence,
  SkippedLink,
} from './types.js'
import { classifyHref } from './url.js'

export const PIXEL_BEFORE = '<img src="'
export const PIXEL_AFTER = '" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />'
/**
 * Written anywhere in the HTML (an href, or visible text) or the text part, it becomes the
 * recipient's unsubscribe URL (/u/:campaign/:token) when rendered: the visible opt-out laws and
 * mailbox providers expect in the body, beside the List-Unsubscribe header. Never a tracked link.
 */
export const UNSUBSCRIBE_PLACEHOLDER = '{{sillage.unsubscribe}}'

/** Edits putting the unsubscribe hole at each occurrence of the placeholder in `src`. */
function unsubscribeEdits(src: string, encodingAt: (offset: number) => LinkEncoding): Edit[] {
  const edits: Edit[] = []
  for (let i = src.indexOf(UNSUBSCRIBE_PLACEHOLDER); i >= 0; i = src.indexOf(UNSUBSCRIBE_PLACEHOLDER, i + UNSUBSCRIBE_PLACEHOLDER.length)) {
    edits.push({ start: i, end: i + UNSUBSCRIBE_PLACEHOLDER.length, with: [{ kind: 'unsubscribe', encoding: encodingAt(i) }] })
  }
  return edits
}

export const HONEYPOT_BEFORE = '<a href="'
export const HONEYPOT_AFTER = '" style="display:none" aria-hidden="true" tabindex="-1"></a>'

/** A replacement of `src[start, end)` (an insertion when start === end) by fragments. */
interface Edit {
  start: number
  end: number
  with: Fragment[]
}

const ENCODING: Record<QuoteType, LinkEncoding> = {
  [QuoteType.Double]: 'attr-double',
  [QuoteType.Single]: 'attr-single',
  [QuoteType.Unquoted]: 'attr-unquoted',
  // Never reached: a valueless href is empty, hence skipped.
  [QuoteType.NoValue]: 'attr-unquoted',
}

/** Splices edits into the source; adjacent literals are merged so rendering concatenates few parts. */
function fragmentsOf(src: string, edits: Edit[]): Fragment[] {
  // Stable sort keeps insertions at the same offset in the order they were made.
  edits.sort((a, b) => a.start - b.start)
  const out: Fragment[] = []
  const push = (f: Fragment): void => {
    const last = out[out.length - 1]
    if (typeof f === 'string') {
      if (f === '') return
      if (typeof last === 'string') out[out.length - 1] = last + f
      else out.push(f)
    } else out.push(f)
  }
  let cursor = 0
  for (const e of edits) {
    push(src.slice(cursor, e.start))
    for (const f of e.with) push(f)
    cursor = e.end
  }
  push(src.slice(cursor))
  return out
}

function checkOptions(options: CompileOptions): Required<CompileOptions> {
  const optOutAttribute = options.optOutAttribute ?? 'data-sillage'
  if (typeof optOutAttribute !== 'string' || !/^[^\s"'>/=]+$/.test(optOutAttribute)) {
    throw new RewriteError('invalid_option', `optOutAttribute must be an attribute name, got ${JSON.stringify(optOutAttribute)}`)
  }
  return {
    pixel: options.pixel !== false,
    honeypot: options.honeypot === true,
    optOutAttribute,
    bracketMergeTags: options.bracketMergeTags === true,
  }
}

/**
 * Parses a template once: finds its trackable links and splits it into literal
 * fragments and holes, so that rendering per recipient is only concatenation.
 */
export function compileTemplate(input: { html: string; text?: string; options?: CompileOptions }): CompiledTemplate {
  if (input === null || typeof input !== 'object' || typeof input.html !== 'string') {
    throw new RewriteError('invalid_input', 'html must be a string')
  }
  if (input.text !== undefined && typeof input.text !== 'string') {
    throw new RewriteError('invalid_input', 'text must be a string when given')
  }
  const { html } = input
  const opts = checkOptions(input.options ?? {})
  if (html.trim() === '') throw new RewriteError('empty_template', 'html is empty')
  if (html.includes('\u0000')) throw new RewriteError('not_html', 'html contains NUL bytes: binary data, not HTML')
  if (input.text?.includes('\u0000')) throw new RewriteError('not_text', 'text contains NUL bytes: binary data, not text')

  const scan = scanHtml(html, opts.optOutAttribute)
  if (!scan.hasMarkup) throw new RewriteError('not_html', 'html contains no tag, comment or doctype')

  const links: LinkOccurrence[] = []
  const skipped: SkippedLink[] = []
  const edits: Edit[] = []

  for (const h of scan.hrefs) {
    // The unsubscribe link is the reader's, not a tracked one: its hole comes from unsubscribeEdits.
    if (h.raw.includes(UNSUBSCRIBE_PLACEHOLDER)) continue
    if (h.optOut) {
      skipped.push({ href: h.decoded, reason: 'opt_out', part: 'html' })
      continue
    }
    const c = classifyHref(h.decoded, opts.bracketMergeTags)
    if ('reason' in c) {
      skipped.push({ href: h.decoded, reason: c.reason, part: 'html' })
      continue
    }
    const position = links.length + 1
    links.push({ position, url: c.url, label: h.label, part: 'html', raw: h.raw })
    edits.push({ start: h.valueStart, end: h.valueEnd, with: [{ kind: 'link', position, encoding: ENCODING[h.quote] }] })
  }

  // Entity-encoded for a single-quoted value inside one, else as for a double-quoted value, which is
  // also right in text and in an unquoted value (left unquoted: the placeholder may be part of it).
  const singleQuoted = scan.hrefs.filter((h) => h.quote === QuoteType.Single)
  const htmlUnsubscribe = unsubscribeEdits(html, (at) => (singleQuoted.some((h) => h.valueStart <= at && at < h.valueEnd) ? 'attr-single' : 'attr-double'))
  edits.push(...htmlUnsubscribe)

  if (opts.honeypot) {
    // Without a <body> tag the document starts with body content anyway.
    const at = scan.bodyOpenEnd >= 0 ? scan.bodyOpenEnd : 0
    edits.push({ start: at, end: at, with: [HONEYPOT_BEFORE, { kind: 'honeypot' }, HONEYPOT_AFTER] })
  }
  if (opts.pixel) {
    const at = scan.bodyCloseStart >= 0 ? scan.bodyCloseStart : html.length
    edits.push({ start: at, end: at, with: [PIXEL_BEFORE, { kind: 'pixel' }, PIXEL_AFTER] })
  }

  let unsubscribe = htmlUnsubscribe.length > 0
  let text: Fragment[] | null = null
  if (input.text !== undefined) {
    const textEdits: Edit[] = []
    for (const u of scanText(input.text)) {
      const c = classifyHref(u.url, opts.bracketMergeTags)
      if ('reason' in c) {
        skipped.push({ href: u.url, reason: c.reason, part: 'text' })
        continue
      }
      const position = links.length + 1
      links.push({ position, url: c.url, label: '', part: 'text', raw: u.url })
      textEdits.push({ start: u.start, end: u.end, with: [{ kind: 'link', position, encoding: 'text' }] })
    }
    const textUnsubscribe = unsubscribeEdits(input.text, () => 'text').filter((u) => !textEdits.some((e) => e.start < u.end && u.start < e.end))
    unsubscribe ||= textUnsubscribe.length > 0
    text = fragmentsOf(input.text, [...textEdits, ...textUnsubscribe])
  }

  return { links, skipped, pixel: opts.pixel, honeypot: opts.honeypot, unsubscribe, html: fragmentsOf(html, edits), text }
}
