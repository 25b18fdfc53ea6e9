/**
 * Builds test/fixtures/classify/corpus.json, the labelled corpus for `npm run classify:eval`
 * and test/classify. Labels come from this file and from the source lists, never from the
 * classifier, so the evaluation is not circular.
 *
 *   npx tsx scripts/classify-build-corpus.ts
 *
 * Parts: real browsers (npm top-user-agents), mail clients and webmail (hand list below),
 * mail proxies, every named machine signature (with the request that carries it), and one
 * instance per pattern of npm crawler-user-agents (crawlers, except the proxies and link
 * previews among them, relabelled below).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

type Kind = 'open' | 'click' | 'unsubscribe'
type Cls = 'human' | 'machine_open' | 'scanner_click' | 'crawler'

export interface CorpusEntry {
  ua: string
  method?: string
  referer?: string
  ip?: string
  prefetch?: string
  kind: Kind
  expected: Cls
  expectedReason?: string
  /** Set on the signatures the issue names: each must be caught. */
  signature?: string
  /** human entries: 'browser' or 'mail_client' (the ≤ 1 % false-machine target applies to these). */
  group?: string
  expectedProxy?: string
  source: string
}

const require = createRequire(import.meta.url)
const topUas = require('top-user-agents') as string[]
const pkgVersion = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version
const topVersion = pkgVersion('top-user-agents')
const crawlers = require('crawler-user-agents') as Array<{ pattern: string; url?: string; instances?: string[] }>
const crawlerVersion = pkgVersion('crawler-user-agents')

const out: CorpusEntry[] = []
const machineClass = (kind: Kind): Cls => (kind === 'open' ? 'machine_open' : 'scanner_click')

// Real browsers: alternate kinds so both paths are exercised.
topUas.forEach((ua, i) => {
  out.push({ ua, kind: i % 2 === 0 ? 'click' : 'open', expected: 'human', group: 'browser', source: `npm top-user-agents@${topVersion}` })
})

const BROWSERS_EXTRA: Array<[string, string]> = [
  ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36', 'Samsung Internet UA format, developer.samsung.com "Samsung Internet user agent string"'],
  ['Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0', 'MDN "User-Agent" header, Firefox for Android'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1', 'Chrome for iOS UA format (developer.chrome.com "User-Agent strings")'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/124.0 Mobile/15E148 Safari/605.1.15', 'Firefox for iOS UA format (MDN "User-Agent" header)'],
  ['Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'Safari on iPad UA format (WebKit)'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0', 'Opera desktop UA format (Opera help, "Opera user agent")'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36', 'Yandex Browser UA format'],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'MDN "User-Agent" header, Firefox on Linux'],
  ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'ChromeOS UA format (developer.chrome.com "User-Agent reduction")'],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', 'Chrome reduced UA on Android (developer.chrome.com "User-Agent reduction")'],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome reduced UA on Android tablet (developer.chrome.com "User-Agent reduction")'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]', 'Facebook iOS in-app browser UA format'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 326.0.3.31.104 (iPhone15,2; iOS 17_4; en_US; en; scale=3.00; 1179x2556; 589215126)', 'Instagram iOS in-app browser UA format'],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/123.0.6312.99 Mobile Safari/537.36', 'Android WebView UA format (developer.chrome.com "User-Agent strings", WebView)'],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook', `npm crawler-user-agents@${crawlerVersion} "MetaIAB Facebook" (an in-app browser: a person)`],
  ['Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36', 'Chrome on Samsung Galaxy Tab UA format'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21', 'Vivaldi UA format'],
  ['Mozilla/5.0 (Linux; U; Android 12; en-US; SM-A125F Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.4.0.1306 Mobile Safari/537.36', 'UC Browser Android UA format'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15', 'Safari on macOS UA format (WebKit)'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0', 'Firefox ESR 115 on Windows (MDN "User-Agent" header)'],
]
BROWSERS_EXTRA.forEach(([ua, source], i) => out.push({ ua, kind: i % 2 === 0 ? 'click' : 'open', expected: 'human', group: 'browser', source }))

// Mail clients: their image fetches (opens) and, for those with a browser inside, clicks.
const MAIL_CLIENTS: Array<[string, string]> = [
  ['Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)', 'Outlook for Windows (Microsoft 365) image fetch, "Microsoft Office/<ver> (…; Microsoft Outlook …)"'],
  ['Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)', 'Outlook 2016 for Windows image fetch'],
  ['Microsoft Office/15.0 (Windows NT 6.1; Microsoft Outlook 15.0.4420; Pro)', 'Outlook 2013 for Windows image fetch'],
  ['Mozilla/4.0 (compatible; ms-office; MSOffice 16)', 'Outlook for Windows (ms-office token) image fetch'],
  ['Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; Microsoft Outlook 16.0.5356; ms-office; MSOffice 16)', 'Outlook for Windows (Word renderer) image fetch'],
  ['Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; Microsoft Outlook 16.0.5356; ms-office; MSOffice 16)', 'Outlook for Windows (Trident renderer) image fetch'],
  ['Outlook-iOS/709.2189947.prod.iphone (4.2.13)', 'Outlook for iOS app UA'],
  ['Outlook-Android/2.0', 'Outlook for Android app UA'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0', 'Thunderbird 115 (MDN "User-Agent" header, Gecko-based apps)'],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Thunderbird/102.3.0 Lightning/5.4', 'Thunderbird 102 with Lightning on Linux'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Thunderbird/128.2.0', 'Thunderbird 128 on macOS'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0 Betterbird/115.9.0', 'Betterbird (Thunderbird fork)'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)', 'Apple Mail on macOS (WebKit UA without Safari token)'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko)', 'Apple Mail on macOS Mojave'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148', 'Apple Mail on iOS (WebKit UA without Safari token)'],
  ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148', 'Apple Mail on iPadOS'],
  ['Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) eM Client/9.2.1735 Chrome/110.0.0.0 Safari/537.36', 'eM Client'],
  ['Airmail 3.6.60 (Mac OS X)', 'Airmail for macOS (isbot matches it: the e-mail rules must come first)'],
  ['Spark/2.11.14 (iPhone; iOS 17.1; Scale/3.00) CFNetwork/1474 Darwin/23.0.0', 'Spark by Readdle'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Mailbird/2.9.85.0 Chrome/120.0.0.0 Safari/537.36', 'Mailbird'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:91.0) Gecko/20100101 Postbox/7.0.60', 'Postbox'],
  ['Evolution/3.50.2', 'GNOME Evolution'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Mailspring/1.13.3 Chrome/120.0.0.0 Electron/28.0.0 Safari/537.36', 'Mailspring (Electron)'],
  ['Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 BlueMail/1.9', 'BlueMail for Android'],
  ['YahooMobileMail/6.40.2 (Android Mail; 1.0.0) (SM-G991B;samsung;SM-G991B;13/TP1A.220624.014)', 'Yahoo Mail app for Android'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0', 'Outlook on the web in Edge (webmail in a browser)'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045', 'Windows Mail app (EdgeHTML WebView)'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Roundcube / webmail in Chrome on Linux'],
]
MAIL_CLIENTS.forEach(([ua, source]) => {
  out.push({ ua, kind: 'open', expected: 'human', group: 'mail_client', source })
  out.push({ ua, kind: 'click', expected: 'human', group: 'mail_client', source })
})

// Mail proxies fetch on a real open: human, with the proxy named.
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
out.push({ ua: GMAIL_PROXY, kind: 'open', expected: 'human', expectedProxy: 'gmail', signature: 'GoogleImageProxy', group: 'mail_client', source: 'https://github.com/matomo-org/device-detector/issues/5359' })
out.push({ ua: GMAIL_PROXY, kind: 'open', ip: '66.249.84.10', expected: 'human', expectedProxy: 'gmail', group: 'mail_client', source: 'GoogleImageProxy from a Google address (Gmail image cache)' })
out.push({ ua: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', kind: 'open', expected: 'human', expectedProxy: 'yahoo', signature: 'YahooMailProxy', group: 'mail_client', source: 'https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html' })

// Named machine signatures, each on the kinds it is seen on.
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
type Sig = { signature: string; ua: string; reason: string; source: string; kinds: Kind[]; method?: string; referer?: string; ip?: string; prefetch?: string }
const SIGNATURES: Sig[] = [
  { signature: 'Apple MPP bare UA', ua: 'Mozilla/5.0', reason: 'apple_mpp', kinds: ['open'], source: 'https://github.com/ua-parser/uap-core/issues/509' },
  { signature: 'Gmail prefetch', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0', reason: 'gmail_prefetch', kinds: ['open'], source: 'https://www.sparkpost.com/blog/gmail-prefetching-images/' },
  { signature: 'Slackbot', ua: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', reason: 'link_preview', kinds: ['click', 'open'], source: 'https://api.slack.com/robots' },
  { signature: 'Slack image proxy', ua: 'Slack-ImgProxy (+https://api.slack.com/robots)', reason: 'link_preview', kinds: ['open'], source: 'https://api.slack.com/robots' },
  { signature: 'facebookexternalhit', ua: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', reason: 'link_preview', kinds: ['click', 'open'], source: 'https://developers.facebook.com/docs/sharing/webmasters/web-crawlers' },
  { signature: 'Twitterbot', ua: 'Twitterbot/1.0', reason: 'link_preview', kinds: ['click'], source: 'https://developer.x.com/en/docs/x-for-websites/cards/guides/getting-started' },
  { signature: 'WhatsApp', ua: 'WhatsApp/2.23.20.0 A', reason: 'link_preview', kinds: ['click'], source: `npm crawler-user-agents@${crawlerVersion} "WhatsApp"` },
  { signature: 'TelegramBot', ua: 'TelegramBot (like TwitterBot)', reason: 'link_preview', kinds: ['click'], source: 'https://core.telegram.org/bots/api (link previews)' },
  { signature: 'Discordbot', ua: 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)', reason: 'link_preview', kinds: ['click'], source: `npm crawler-user-agents@${crawlerVersion} "Discordbot"` },
  { signature: 'LinkedInBot', ua: 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)', reason: 'link_preview', kinds: ['click'], source: `npm crawler-user-agents@${crawlerVersion} "LinkedInBot"` },
  { signature: 'SkypeUriPreview', ua: 'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5', reason: 'link_preview', kinds: ['click'], source: `npm crawler-user-agents@${crawlerVersion} "SkypeUriPreview"` },
  { signature: 'MicrosoftPreview', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 Edg/112.0.1722.48 MicrosoftPreview/2.0 +https://aka.ms/MicrosoftPreview', reason: 'link_preview', kinds: ['click', 'open'], source: 'https://aka.ms/MicrosoftPreview' },
  { signature: 'Barracuda Sentinel', ua: 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))', reason: 'scanner_ua', kinds: ['click', 'open', 'unsubscribe'], source: 'https://campus.barracuda.com/product/sentinel/doc/498468311/unwanted-link-clicks' },
  { signature: 'Microsoft Office Existence Discovery', ua: 'Microsoft Office Existence Discovery', reason: 'scanner_ua', kinds: ['click'], method: 'HEAD', source: 'Microsoft Office link pre-check (HEAD before opening a link)' },
  { signature: 'Mimecast', ua: 'Mozilla/5.0 (compatible; Mimecast URL Protect)', reason: 'scanner_ua', kinds: ['click'], source: 'Mimecast Targeted Threat Protection, URL Protect' },
  { signature: 'Proofpoint', ua: 'Mozilla/5.0 (compatible; Proofpoint URL Defense)', reason: 'scanner_ua', kinds: ['click'], source: 'Proofpoint Targeted Attack Protection, URL Defense' },
  { signature: 'HEAD request', ua: CHROME, method: 'HEAD', reason: 'head_request', kinds: ['click', 'open', 'unsubscribe'], source: 'issue: HEAD requests are link checkers (RFC 9110 §9.3.2: no body, nothing is shown)' },
  { signature: 'Sec-Purpose prefetch', ua: CHROME, prefetch: 'sec-purpose=prefetch', reason: 'prefetch_header', kinds: ['click'], source: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-Purpose' },
  { signature: 'Sec-Purpose prefetch via private proxy', ua: SAFARI_IOS, prefetch: 'sec-purpose=prefetch;anonymous-client-ip', reason: 'prefetch_header', kinds: ['click'], source: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-Purpose' },
  { signature: 'Purpose prefetch', ua: CHROME, prefetch: 'purpose=prefetch', reason: 'prefetch_header', kinds: ['click'], source: 'Chrome legacy "Purpose: prefetch" request header' },
  { signature: 'X-Moz prefetch', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', prefetch: 'x-moz=prefetch', reason: 'prefetch_header', kinds: ['click'], source: 'https://developer.mozilla.org/en-US/docs/Glossary/Prefetch (Firefox "X-Moz: prefetch")' },
  { signature: 'Mimecast referer', ua: CHROME, referer: 'https://protect-eu.mimecastprotect.com/s/AbCdEf?domain=example.com', reason: 'scanner_referer', kinds: ['click'], source: 'issue: scanner referer *.mimecastprotect.com' },
  { signature: 'Teams referer', ua: CHROME, referer: 'https://statics.teams.cdn.office.net/', reason: 'scanner_referer', kinds: ['click'], source: 'issue: scanner referer statics.teams.cdn.office.net' },
  { signature: 'Apple MPP egress v4', ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)', ip: '17.58.101.3', reason: 'apple_mpp', kinds: ['open'], source: 'src/tracking/classify/data/apple-mpp.txt (Apple 17.0.0.0/8)' },
  { signature: 'Apple MPP egress v6', ua: 'Mozilla/5.0', ip: '2620:149:a0c:f000::1', reason: 'apple_mpp', kinds: ['open'], source: 'src/tracking/classify/data/apple-mpp.txt (Apple 2620:149::/32)' },
  { signature: 'Microsoft EOP address v4', ua: CHROME, ip: '40.107.22.91', reason: 'scanner_ip', kinds: ['click', 'open'], source: 'src/tracking/classify/data/scanners-microsoft.txt (Office 365 URLs and IP address ranges)' },
  { signature: 'Microsoft EOP address v6', ua: CHROME, ip: '2a01:111:f403:c201::5', reason: 'scanner_ip', kinds: ['click'], source: 'src/tracking/classify/data/scanners-microsoft.txt (Office 365 URLs and IP address ranges)' },
  { signature: 'Barracuda address', ua: CHROME, ip: '209.222.82.17', reason: 'scanner_ip', kinds: ['click'], source: 'src/tracking/classify/data/scanners.txt (Barracuda)' },
  { signature: 'Mimecast address (v4-mapped)', ua: SAFARI_IOS, ip: '::ffff:205.139.110.30', reason: 'scanner_ip', kinds: ['click'], source: 'src/tracking/classify/data/scanners.txt (Mimecast)' },
  { signature: 'Empty UA', ua: '', reason: 'empty_ua', kinds: ['click', 'open'], source: 'no mail client or browser sends an empty User-Agent' },
]
for (const s of SIGNATURES) {
  for (const kind of s.kinds) {
    out.push({
      ua: s.ua, kind, expected: machineClass(kind), expectedReason: s.reason, signature: s.signature, source: s.source,
      ...(s.method ? { method: s.method } : {}), ...(s.referer ? { referer: s.referer } : {}),
      ...(s.ip ? { ip: s.ip } : {}), ...(s.prefetch ? { prefetch: s.prefetch } : {}),
    })
  }
}
// Private Relay on a click is a person browsing (MPP only fetches images).
out.push({ ua: SAFARI_IOS, kind: 'click', ip: '17.58.101.3', expected: 'human', group: 'browser', source: 'iCloud Private Relay egress on a click: Safari, a person' })

// crawler-user-agents: the proxies and link previews in it are relabelled; the rest are crawlers.
const HUMAN_PATTERNS = new Set(['GoogleImageProxy', 'YahooMailProxy', 'FastmailUA', 'MetaIAB Facebook'])
const PREVIEW_PATTERNS = new Set([
  'LinkedInBot', 'facebookexternalhit', 'Twitterbot', 'Slack-ImgProxy', 'SkypeUriPreview', 'Slackbot', 'WhatsApp',
  'BingPreview\\/', 'Yahoo Link Preview', 'Discordbot', 'TelegramBot', 'Google Web Preview', 'Snap URL Preview Service',
  'facebookcatalog\\/', 'MicrosoftPreview\\/', 'BufferLinkPreviewBot', 'BlueskyPreviewBot', 'Chatwork LinkPreview',
  'Orlo-LinkPreview\\/', 'page-preview-tool', 'SnapURLPreview\\/', 'FlipboardProxy', 'Embedly', 'redditbot', 'Mastodon',
  'vkShare', 'Iframely',
])
/** URL-reputation scanners in the list: they follow a link to judge it, like mail gateways. */
const SCANNER_PATTERNS = new Set(['virustotal', 'Google-Safety', 'CloudflareRadarURLScanner'])
crawlers.forEach((c, i) => {
  const ua = c.instances?.[0]
  if (!ua || HUMAN_PATTERNS.has(c.pattern)) return
  const kind: Kind = i % 2 === 0 ? 'click' : 'open'
  const source = `npm crawler-user-agents@${crawlerVersion} pattern "${c.pattern}"${c.url ? ' ' + c.url : ''}`
  if (PREVIEW_PATTERNS.has(c.pattern)) out.push({ ua, kind, expected: machineClass(kind), expectedReason: 'link_preview', source })
  else if (SCANNER_PATTERNS.has(c.pattern)) out.push({ ua, kind, expected: machineClass(kind), expectedReason: 'scanner_ua', source })
  else out.push({ ua, kind, expected: 'crawler', source })
})

const path = new URL('../test/fixtures/classify/corpus.json', import.meta.url)
writeFileSync(path, JSON.stringify(out, null, 1) + '\n')
const count = (pred: (e: CorpusEntry) => boolean) => out.filter(pred).length
console.log(`wrote ${out.length} entries (${count((e) => e.expected === 'human')} human, ${count((e) => e.expected !== 'human')} machine) to ${path.pathname}`)
