export interface CompileOptions {
  /** Insert the open pixel (default true). */
  pixel?: boolean
  /** Insert one invisible link right after `<body>` to catch link-scanning bots (default false). */
  honeypot?: boolean
  /** Attribute that opts a link out of tracking when its value is `off` (default `data-sillage`). */
  optOutAttribute?: string
  /** Treat `[…]` in an href as a merge tag (default false: brackets are legal in URLs). */
  bracketMergeTags?: boolean
}

/** Which part of the message a link or skipped href was found in. */
export type Part = 'html' | 'text'

export interface LinkOccurrence {
  /** 1-based order of occurrence: HTML first, then the text part. */
  position: number
  /** Destination to register: entities decoded, surrounding whitespace removed. */
  url: string
  label: string
  part: Part
  /** The href exactly as written in the source (still entity-encoded in HTML). */
  raw: string
}

export type SkipReason =
  | 'empty'
  | 'opt_out'
  | 'fragment'
  | 'mailto'
  | 'tel'
  | 'sms'
  | 'javascript'
  | 'data'
  | 'merge_tag'
  | 'unsupported_scheme'
  | 'relative'
  | 'invalid_url'

export interface SkippedLink {
  /** The href, entities decoded. */
  href: string
  reason: SkipReason
  part: Part
}

/**
 * How a link's URL is written into its hole: attribute values are entity-encoded
 * for their quoting; an unquoted href is written with double quotes; text is raw.
 */
export type LinkEncoding = 'attr-double' | 'attr-single' | 'attr-unquoted' | 'text'

export interface LinkHole {
  kind: 'link'
  position: number
  encoding: LinkEncoding
}

/** Where `{{sillage.unsubscribe}}` was written: the recipient's unsubscribe URL, never a tracked link. */
export interface UnsubscribeHole {
  kind: 'unsubscribe'
  encoding: LinkEncoding
}

export type Fragment = string | LinkHole | UnsubscribeHole | { kind: 'pixel' } | { kind: 'honeypot' }

/** Plain data (JSON-serialisable), so it can be stored once and rendered per recipient. */
export interface CompiledTemplate {
  links: LinkOccurrence[]
  skipped: SkippedLink[]
  /** True when `html` contains a pixel hole. */
  pixel: boolean
  /** True when `html` contains a honeypot hole: register it as a link labelled `__honeypot__`. */
  honeypot: boolean
  /** True when the html or text holds `{{sillage.unsubscribe}}` (absent in templates compiled before it existed). */
  unsubscribe?: boolean
  html: Fragment[]
  /** Null when no text part was given. */
  text: Fragment[] | null
}

export interface RenderUrls {
  linkUrl(position: number): string
  /** Required when the template has a pixel. */
  pixelUrl?: string
  /** Required when the template has a honeypot. */
  honeypotUrl?: string
  /** Required when the template has an unsubscribe placeholder. */
  unsubscribeUrl?: string
  /**
   * Write values exactly as given, already encoded for where they go, and keep
   * unquoted hrefs unquoted. Meant for round-trip checks, not for sending.
   */
  verbatim?: boolean
}

export interface RenderedMessage {
  html: string
  text: string | null
}
