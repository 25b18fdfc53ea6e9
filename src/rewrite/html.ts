import { decodeHTML, decodeHTMLAttribute } from 'entities'
import { QuoteType, Tokenizer, type TokenizerCallbacks } from 'htmlparser2'

/** One href found in the markup, before it is classified. */
export interface FoundHref {
  /** Source range of the attribute value bytes (without quotes). */
  valueStart: number
  valueEnd: number
  quote: QuoteType
  raw: string
  decoded: string
  optOut: boolean
  label: string
}

export interface HtmlScan {
  hrefs: FoundHref[]
  /** Offset just after the first top-level `<body …>` tag, or -1. */
  bodyOpenEnd: number
  /** Offset of the `<` of the last top-level `</body>`, or -1. */
  bodyCloseStart: number
  /** False when the tokenizer saw no tag, comment or declaration at all. */
  hasMarkup: boolean
}

const LABEL_MAX = 200
// Tags whose boundaries separate words in rendered text, so labels read naturally.
const BREAKING = new Set(['br', 'p', 'div', 'td', 'th', 'tr', 'li', 'table', 'center', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'])
// The tokenizer reads these as raw text; what they contain is not visible text.
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext'])

interface Attr {
  start: number
  end: number
  quote: QuoteType
}

interface LabelCollector {
  href: FoundHref
  closeName: string
  explicit: string | undefined
  text: string
  alt: string | undefined
}

/** Is this element one whose href is a link the reader can click? VML shapes are Outlook's buttons. */
function isLinkTag(name: string): boolean {
  return name === 'a' || name === 'area' || name.startsWith('v:')
}

export function collapseLabel(s: string): string {
  const collapsed = s.replace(/\s+/g, ' ').trim()
  if (collapsed.length <= LABEL_MAX) return collapsed
  // Cut on a code point boundary so a surrogate pair is never split.
  return Array.from(collapsed).slice(0, LABEL_MAX).join('').trimEnd()
}

/**
 * Walks the markup of `src[from, to)` with htmlparser2's tokenizer (entities left
 * encoded so every index is a source offset). Conditional comments are scanned
 * again, at their offset, with a nested scanner: Outlook reads their content as markup.
 */
class Scanner implements TokenizerCallbacks {
  private readonly base: number
  private tagName = ''
  private attrs = new Map<string, Attr>()
  private attrName = ''
  private valueStart = -1
  private valueEnd = -1
  private inRawText = false
  private collector: LabelCollector | undefined

  constructor(
    private readonly slice: string,
    base: number,
    private readonly topLevel: boolean,
    private readonly optOutAttribute: string,
    private readonly out: HtmlScan,
  ) {
    this.base = base
  }

  run(): void {
    const tokenizer = new Tokenizer({ decodeEntities: false }, this)
    tokenizer.write(this.slice)
    tokenizer.end()
  }

  private text(start: number, end: number): string {
    return this.slice.slice(start, end)
  }

  private attrValue(name: string): string | undefined {
    const a = this.attrs.get(name)
    if (!a) return undefined
    return a.start < 0 ? '' : decodeHTMLAttribute(this.text(a.start, a.end))
  }

  onopentagname(start: number, end: number): void {
    this.out.hasMarkup = true
    this.tagName = this.text(start, end).toLowerCase()
    this.attrs = new Map()
  }

  onattribname(start: number, end: number): void {
    this.attrName = this.text(start, end).toLowerCase()
    this.valueStart = -1
    this.valueEnd = -1
  }

  onattribdata(start: number, end: number): void {
    // The tokenizer may report one value in several pieces; keep the whole range.
    if (this.valueStart < 0) this.valueStart = start
    this.valueEnd = end
  }

  onattribentity(): void {}

  onattribend(quote: QuoteType): void {
    // Browsers keep the first of duplicated attributes.
    if (!this.attrs.has(this.attrName)) {
      this.attrs.set(this.attrName, { start: this.valueStart, end: this.valueEnd, quote })
    }
  }

  onopentagend(end: number): void {
    this.openTag(end + 1)
  }

  onselfclosingtag(end: number): void {
    this.openTag(end + 1)
  }

  private openTag(tagEnd: number): void {
    const name = this.tagName
    if (this.topLevel && name === 'body' && this.out.bodyOpenEnd < 0) this.out.bodyOpenEnd = this.base + tagEnd
    if (RAW_TEXT.has(name)) this.inRawText = true

    if (this.collector) {
      // Anchors do not nest: a new link closes the one being read.
      if (isLinkTag(name) && this.attrs.has('href')) this.finishLabel()
      else if (name === 'img' && this.collector.alt === undefined) this.collector.alt = this.attrValue('alt')
      else if (BREAKING.has(name)) this.collector.text += ' '
    }

    const href = this.attrs.get('href')
    if (!href || !isLinkTag(name)) return
    const raw = href.start < 0 ? '' : this.text(href.start, href.end)
    const found: FoundHref = {
      valueStart: this.base + (href.start < 0 ? 0 : href.start),
      valueEnd: this.base + (href.start < 0 ? 0 : href.end),
      quote: href.quote,
      raw,
      decoded: decodeHTMLAttribute(raw),
      optOut: this.attrValue(this.optOutAttribute)?.trim().toLowerCase() === 'off',
      label: '',
    }
    this.out.hrefs.push(found)
    const explicit = this.attrValue('data-label')
    if (name === 'area') {
      // A void element: its own alt text is what the reader sees.
      found.label = collapseLabel(explicit ?? this.attrValue('alt') ?? '')
      return
    }
    this.collector = { href: found, closeName: name, explicit, text: '', alt: undefined }
  }

  private finishLabel(): void {
    const c = this.collector
    if (!c) return
    this.collector = undefined
    const fromText = collapseLabel(c.text)
    c.href.label = collapseLabel(c.explicit ?? '') || fromText || collapseLabel(c.alt ?? '')
  }

  onclosetag(start: number, end: number): void {
    this.out.hasMarkup = true
    this.inRawText = false
    const name = this.text(start, end).toLowerCase()
    if (this.collector) {
      if (name === this.collector.closeName) this.finishLabel()
      else if (BREAKING.has(name)) this.collector.text += ' '
    }
    if (this.topLevel && name === 'body') this.out.bodyCloseStart = this.base + this.slice.lastIndexOf('<', start)
  }

  ontext(start: number, end: number): void {
    if (this.collector && !this.inRawText) this.collector.text += decodeHTML(this.text(start, end))
  }

  ontextentity(): void {}

  oncomment(start: number, end: number, endOffset: number): void {
    this.out.hasMarkup = true
    const contentEnd = end - endOffset
    const content = this.text(start, contentEnd)
    if (/^\s*\[if\b/i.test(content)) {
      new Scanner(content, this.base + start, false, this.optOutAttribute, this.out).run()
    }
  }

  oncdata(): void {
    this.out.hasMarkup = true
  }

  ondeclaration(): void {
    this.out.hasMarkup = true
  }

  onprocessinginstruction(): void {
    this.out.hasMarkup = true
  }

  onend(): void {
    this.finishLabel()
  }
}

export function scanHtml(src: string, optOutAttribute: string): HtmlScan {
  const out: HtmlScan = { hrefs: [], bodyOpenEnd: -1, bodyCloseStart: -1, hasMarkup: false }
  new Scanner(src, 0, true, optOutAttribute.toLowerCase(), out).run()
  return out
}
