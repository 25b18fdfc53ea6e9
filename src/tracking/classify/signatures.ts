import { isbot } from 'isbot'

/**
 * What a user agent alone says. E-mail rules run before the generic bot list: isbot
 * (v5) matches GoogleImageProxy, YahooMailProxy, Airmail and the bare `Mozilla/5.0`,
 * which here mean a real open through a proxy, a mail client and Apple MPP.
 */
export type UaReason = '' | 'empty_ua' | 'apple_mpp' | 'gmail_prefetch' | 'link_preview' | 'scanner_ua' | 'crawler_ua'

export interface UaVerdict {
  /** Machine reason from the UA alone; '' when it looks like a person's client. */
  reason: UaReason
  /** Mail proxy that fetches on behalf of a real reader ('gmail', 'yahoo', 'fastmail'), else ''. */
  proxy: string
  /** Name of the mail client or proxy an e-mail rule recognised, else ''. */
  client: string
}

/**
 * Gmail's image prefetch on delivery (a false open), distinct from the GoogleImageProxy
 * fetch when the reader opens the message. Source: SparkPost/Bird, "Gmail is prefetching
 * images" (Jan 2022); mautic/mautic#10245.
 */
export const GMAIL_PREFETCH_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0'

const PROXIES: ReadonlyArray<[RegExp, string, string]> = [
  [/GoogleImageProxy/, 'gmail', 'Gmail image proxy'],
  [/YahooMailProxy/, 'yahoo', 'Yahoo Mail proxy'],
  [/^FastmailUA\//, 'fastmail', 'Fastmail image proxy'],
]

/** Agents that fetch a link to draw a preview card in a chat or social app. */
export const LINK_PREVIEW_RE =
  /Slackbot|Slack-ImgProxy|facebookexternalhit|facebookcatalog|Twitterbot|WhatsApp|TelegramBot|Discordbot|LinkedInBot|SkypeUriPreview|MicrosoftPreview|BingPreview|Yahoo Link Preview|Google Web Preview|Snap ?URL ?Preview|BlueskyPreviewBot|Cardyb|Iframely|Embedly|redditbot|vkShare|Viber\/|Chatwork LinkPreview|BufferLinkPreviewBot|Orlo-LinkPreview|page-preview-tool|FlipboardProxy|Mastodon\//i

/** Security gateways and URL scanners that follow links (and load images) before the reader. */
export const SCANNER_UA_RE =
  /Barracuda|Mimecast|Proofpoint|Microsoft Office (?:Existence|Protocol) Discovery|Safe ?Links|Microsoft ATP|Trend ?Micro|Symantec|Sophos|IronPort|Forcepoint|Websense|FortiGuard|Fortinet|Zscaler|Check ?Point|Cloudmark|SpamTitan|Avanan|Abnormal ?Security|Hornetsecurity|Libraesva|Vade ?Secure|Trustwave|MailGuard|SonicWall|Bitdefender|Kaspersky|urlscan|VirusTotal|Google-Safety/i

const MAIL_CLIENTS: ReadonlyArray<[RegExp, string]> = [
  [/Microsoft Outlook|Microsoft Office\/|ms-office|MSOffice|Outlook-(?:iOS|Android)|Outlook-Express|MacOutlook/, 'Outlook'],
  [/Thunderbird\/|Betterbird|Icedove|SeaMonkey/, 'Thunderbird'],
  [/eM Client/, 'eM Client'],
  [/Airmail/, 'Airmail'],
  [/Spark\/|Readdle/, 'Spark'],
  [/Postbox/, 'Postbox'],
  [/Mailbird/, 'Mailbird'],
  [/Evolution\//, 'Evolution'],
  [/KMail|Kontact/, 'KMail'],
  [/Claws Mail/, 'Claws Mail'],
  [/Mailspring/, 'Mailspring'],
  [/Canary ?Mail/, 'Canary Mail'],
  [/BlueMail/, 'BlueMail'],
  [/Lotus-Notes|IBM Notes|HCL Notes/, 'Notes'],
  [/Windows[- ]Live[- ]Mail/, 'Windows Live Mail'],
  [/YahooMobileMail|YahooMobile\//, 'Yahoo Mail app'],
  [/Foxmail/, 'Foxmail'],
  [/K-9 Mail|K9Mail/, 'K-9 Mail'],
  [/FairEmail/, 'FairEmail'],
]

/**
 * Apple Mail (macOS and iOS) loads images with the WebKit UA and no browser token:
 * no Safari/, Version/, Chrome or in-app suffix after the optional `Mobile/…`.
 */
const APPLE_MAIL_RE =
  /^Mozilla\/5\.0 \((?:Macintosh|iPhone|iPad|iPod)[^)]*\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)(?: Mobile\/\w+)?$/

/** The mail client named by an e-mail rule, or ''. */
export function mailClientName(ua: string): string {
  for (const [re, name] of MAIL_CLIENTS) if (re.test(ua)) return name
  return APPLE_MAIL_RE.test(ua) ? 'Apple Mail' : ''
}

const NO_PROXY = ''

/** Classifies a user agent string by itself; pure, so callers may cache it by string. */
export function uaVerdict(ua: string): UaVerdict {
  const t = ua.trim()
  if (!t) return { reason: 'empty_ua', proxy: NO_PROXY, client: '' }
  for (const [re, proxy, client] of PROXIES) if (re.test(t)) return { reason: '', proxy, client }
  if (t === GMAIL_PREFETCH_UA) return { reason: 'gmail_prefetch', proxy: NO_PROXY, client: '' }
  // Apple MPP sends exactly this; no browser or mail client sends it bare.
  if (t === 'Mozilla/5.0') return { reason: 'apple_mpp', proxy: NO_PROXY, client: '' }
  if (LINK_PREVIEW_RE.test(t)) return { reason: 'link_preview', proxy: NO_PROXY, client: '' }
  if (SCANNER_UA_RE.test(t)) return { reason: 'scanner_ua', proxy: NO_PROXY, client: '' }
  const client = mailClientName(t)
  if (client) return { reason: '', proxy: NO_PROXY, client }
  if (isbot(t)) return { reason: 'crawler_ua', proxy: NO_PROXY, client: '' }
  return { reason: '', proxy: NO_PROXY, client: '' }
}

/** True for a prefetch hint as the edge stores it: "sec-purpose=prefetch;…", "purpose=prefetch", "x-moz=prefetch". */
const PREFETCH_RE = /(?:^|,)\s*(?:(?:sec-purpose|purpose|x-moz)\s*[=:]\s*)?prefetch/i
export function isPrefetch(prefetch: string): boolean {
  return prefetch !== '' && PREFETCH_RE.test(prefetch)
}

/** Referer hosts of scanners' own pages: a hit carrying one was made by the scanner. */
const SCANNER_REFERER_SUFFIXES = ['.mimecastprotect.com', 'mimecastprotect.com', 'statics.teams.cdn.office.net']

/** Host of a URL, lower-cased, without port or credentials; '' when there is none. */
export function refererHost(referer: string): string {
  const scheme = referer.indexOf('://')
  if (scheme < 0) return ''
  let end = referer.length
  for (let i = scheme + 3; i < referer.length; i++) {
    const c = referer.charCodeAt(i)
    if (c === 47 || c === 63 || c === 35) {
      end = i
      break
    }
  }
  let host = referer.slice(scheme + 3, end)
  const at = host.lastIndexOf('@')
  if (at >= 0) host = host.slice(at + 1)
  const colon = host.lastIndexOf(':')
  if (colon >= 0 && host.indexOf(']') < colon) host = host.slice(0, colon)
  return host.toLowerCase()
}

export function isScannerReferer(referer: string): boolean {
  if (referer === '') return false
  const host = refererHost(referer)
  if (!host) return false
  for (const s of SCANNER_REFERER_SUFFIXES) {
    if (s.startsWith('.') ? host.endsWith(s) : host === s) return true
  }
  return false
}
