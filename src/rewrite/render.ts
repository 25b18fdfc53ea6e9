import { RewriteError } from './errors.js'
import { UNSUBSCRIBE_PLACEHOLDER } from './compile.js'
import type { CompiledTemplate, Fragment, LinkEncoding, RenderUrls, RenderedMessage } from './types.js'

const AMP = /&/g
const DQ = /"/g
const SQ = /'/g

/** Encodes a URL for its attribute; tracked URLs rarely need it, so the common case only scans. */
function encode(url: string, encoding: LinkEncoding): string {
  switch (encoding) {
    case 'text':
      return url
    case 'attr-single':
      if (url.indexOf('&') < 0 && url.indexOf("'") < 0) return url
      return url.replace(AMP, '&amp;').replace(SQ, '&#39;')
    case 'attr-double':
    case 'attr-unquoted': {
      const v = url.indexOf('&') < 0 && url.indexOf('"') < 0 ? url : url.replace(AMP, '&amp;').replace(DQ, '&quot;')
      return encoding === 'attr-double' ? v : '"' + v + '"'
    }
  }
}

function renderParts(parts: Fragment[], urls: RenderUrls, pixel: string, honeypot: string, unsubscribe: string): string {
  const verbatim = urls.verbatim === true
  let out = ''
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!
    if (typeof p === 'string') out += p
    else if (p.kind === 'link') {
      const url = urls.linkUrl(p.position)
      out += verbatim ? url : encode(url, p.encoding)
    } else if (p.kind === 'pixel') out += pixel
    else if (p.kind === 'unsubscribe') out += verbatim ? unsubscribe : encode(unsubscribe, p.encoding)
    else out += honeypot
  }
  return out
}

/** Renders one message: pure concatenation of the compiled fragments and the recipient's URLs. */
export function renderCompiled(compiled: CompiledTemplate, urls: RenderUrls): RenderedMessage {
  let pixel = ''
  let honeypot = ''
  if (compiled.pixel) {
    if (urls.pixelUrl === undefined) throw new RewriteError('missing_pixel_url', 'the template has an open pixel: pixelUrl is required')
    pixel = urls.verbatim ? urls.pixelUrl : encode(urls.pixelUrl, 'attr-double')
  }
  if (compiled.honeypot) {
    if (urls.honeypotUrl === undefined) {
      throw new RewriteError('missing_honeypot_url', 'the template has a honeypot link: honeypotUrl is required')
    }
    honeypot = urls.verbatim ? urls.honeypotUrl : encode(urls.honeypotUrl, 'attr-double')
  }
  let unsubscribe = ''
  if (compiled.unsubscribe) {
    if (urls.unsubscribeUrl === undefined) {
      throw new RewriteError('missing_unsubscribe_url', 'the template has an unsubscribe placeholder: unsubscribeUrl is required')
    }
    unsubscribe = urls.unsubscribeUrl
  }
  return {
    html: renderParts(compiled.html, urls, pixel, honeypot, unsubscribe),
    text: compiled.text === null ? null : renderParts(compiled.text, urls, pixel, honeypot, unsubscribe),
  }
}

export interface Placeholders {
  linkUrl?: (position: number) => string
  pixelUrl?: string
  honeypotUrl?: string
  unsubscribeUrl?: string
}

/**
 * The tracked template for display: rendered with placeholder URLs. The defaults
 * look like merge tags, so compiling the result again never tracks them twice.
 */
export function renderTrackedTemplate(compiled: CompiledTemplate, placeholders: Placeholders = {}): RenderedMessage {
  return renderCompiled(compiled, {
    linkUrl: placeholders.linkUrl ?? ((position) => `{{sillage.link.${position}}}`),
    pixelUrl: placeholders.pixelUrl ?? '{{sillage.pixel}}',
    honeypotUrl: placeholders.honeypotUrl ?? '{{sillage.honeypot}}',
    unsubscribeUrl: placeholders.unsubscribeUrl ?? UNSUBSCRIBE_PLACEHOLDER,
  })
}
