import UAParser from 'ua-parser-js'
import { LruCache } from '../../util/lru.js'
import { uaVerdict } from './signatures.js'

export type DeviceKind = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown'

export interface ParsedUserAgent {
  /** Mail client, mail proxy or browser name; '' when unknown. */
  client: string
  /** Operating system name; '' when unknown or hidden by a proxy. */
  os: string
  device: DeviceKind
}

const DESKTOP_OS = new Set([
  'Windows', 'Mac OS', 'macOS', 'Linux', 'Ubuntu', 'Debian', 'Fedora', 'Mint', 'Arch', 'Gentoo', 'SUSE',
  'openSUSE', 'Red Hat', 'CentOS', 'Chromium OS', 'Chrome OS', 'FreeBSD', 'OpenBSD', 'NetBSD', 'Solaris',
])

const cache = new LruCache<string, ParsedUserAgent>(10_000)
const parser = new UAParser()

function parse(ua: string): ParsedUserAgent {
  const v = uaVerdict(ua)
  if (v.reason === 'empty_ua') return { client: '', os: '', device: 'unknown' }
  // A proxy or MPP hides the reader's client, OS and device.
  if (v.proxy) return { client: v.client, os: '', device: 'unknown' }
  if (v.reason === 'apple_mpp') return { client: 'Apple MPP', os: '', device: 'unknown' }

  parser.setUA(ua)
  const r = parser.getResult()
  const isMachine = v.reason !== ''
  let os = r.os.name ?? ''
  if (!os) {
    if (/iOS|iPhone|iPad/.test(ua)) os = 'iOS'
    else if (/Android/.test(ua)) os = 'Android'
  }
  let device: DeviceKind
  if (isMachine) device = 'bot'
  else if (r.device.type === 'mobile' || r.device.type === 'wearable') device = 'mobile'
  else if (r.device.type === 'tablet') device = 'tablet'
  else if (r.device.type) device = 'unknown'
  else if (/iPad/.test(ua)) device = 'tablet'
  else if (os === 'iOS' || os === 'Android' || /Outlook-(?:iOS|Android)/.test(ua)) device = 'mobile'
  else if (DESKTOP_OS.has(os)) device = 'desktop'
  else device = 'unknown'
  return { client: v.client || r.browser.name || '', os, device }
}

/**
 * Client, OS and device of a user agent, for storage and reports (off the hot path).
 * Mail clients and proxies are recognised before ua-parser-js's browser name.
 * Results are cached per UA string in a bounded LRU and shared: do not mutate them.
 */
export function parseUserAgent(ua: string): ParsedUserAgent {
  let p = cache.get(ua)
  if (p === undefined) {
    p = Object.freeze(parse(ua))
    cache.set(ua, p)
  }
  return p
}
