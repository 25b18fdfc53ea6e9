import { hasMergeTag } from './merge-tags.js'
import type { SkipReason } from './types.js'

export type Classified = { url: string } | { reason: SkipReason }

const NAMED_SKIPS: Record<string, SkipReason> = {
  mailto: 'mailto',
  tel: 'tel',
  sms: 'sms',
  javascript: 'javascript',
  data: 'data',
}

/**
 * Decides whether a (decoded) href can be tracked. Browsers strip leading and
 * trailing C0 controls and spaces and drop tabs and newlines anywhere in a URL,
 * so `java\tscript:` is still javascript; we normalise the same way.
 */
export function classifyHref(decoded: string, brackets: boolean): Classified {
  const url = decoded.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '')
  if (url === '') return { reason: 'empty' }
  if (url.startsWith('#')) return { reason: 'fragment' }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  const named = scheme === undefined ? undefined : NAMED_SKIPS[scheme]
  if (named) return { reason: named }
  if (hasMergeTag(url, brackets)) return { reason: 'merge_tag' }
  if (scheme === undefined) return { reason: 'relative' }
  if (scheme !== 'http' && scheme !== 'https') return { reason: 'unsupported_scheme' }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { reason: 'invalid_url' }
  }
  if (parsed.hostname === '') return { reason: 'invalid_url' }
  return { url }
}
