import { describe, expect, it } from 'vitest'
import {
  CLASSIFIER_VERSION, classify, GMAIL_PREFETCH_UA, getIpRanges, IpRangeSet, LruCache, parseUserAgent,
  type RequestSignals,
} from '../../src/tracking/classify.js'
import { parseIPv4, parseIPv6 } from '../../src/tracking/classify/ip.js'
import { loadIpRanges, parseCidrList } from '../../src/tracking/classify/ranges.js'
import { refererHost } from '../../src/tracking/classify/signatures.js'

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
const OUTLOOK = 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)'
const THUNDERBIRD = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0'
const APPLE_MAIL = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)'
const APPLE_MAIL_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
const YAHOO_PROXY = 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html'

function req(over: Partial<RequestSignals>): RequestSignals {
  return { kind: 'click', method: 'GET', userAgent: CHROME, referer: '', ip: '', prefetch: '', ...over }
}

describe('classify: edge rules', () => {
  it('has version 1', () => {
    expect(CLASSIFIER_VERSION).toBe(1)
  })

  it('takes a browser click as human', () => {
    expect(classify(req({}))).toEqual({ class: 'human', reasons: [], proxy: '' })
  })

  it('flags HEAD on clicks, opens and unsubscribes', () => {
    expect(classify(req({ method: 'HEAD' }))).toEqual({ class: 'scanner_click', reasons: ['head_request'], proxy: '' })
    expect(classify(req({ method: 'head', kind: 'open' }))).toEqual({ class: 'machine_open', reasons: ['head_request'], proxy: '' })
    expect(classify(req({ method: 'HEAD', kind: 'unsubscribe' })).class).toBe('scanner_click')
  })

  it.each(['sec-purpose=prefetch', 'sec-purpose=prefetch;anonymous-client-ip', 'purpose=prefetch', 'x-moz=prefetch', 'purpose=prefetch,x-moz=prefetch'])(
    'flags prefetch hint %s', (prefetch) => {
      expect(classify(req({ prefetch }))).toEqual({ class: 'scanner_click', reasons: ['prefetch_header'], proxy: '' })
    })

  it('ignores a non-prefetch purpose', () => {
    expect(classify(req({ prefetch: 'sec-purpose=prerender' })).class).toBe('human')
  })

  it('takes the bare Mozilla/5.0 open as Apple MPP, and the same UA on a click as a machine', () => {
    expect(classify(req({ kind: 'open', userAgent: 'Mozilla/5.0' }))).toEqual({ class: 'machine_open', reasons: ['apple_mpp'], proxy: '' })
    expect(classify(req({ userAgent: 'Mozilla/5.0' }))).toEqual({ class: 'scanner_click', reasons: ['bare_ua'], proxy: '' })
  })

  it('takes GoogleImageProxy and YahooMailProxy as human opens through a proxy', () => {
    expect(classify(req({ kind: 'open', userAgent: GMAIL_PROXY }))).toEqual({ class: 'human', reasons: [], proxy: 'gmail' })
    expect(classify(req({ kind: 'open', userAgent: YAHOO_PROXY }))).toEqual({ class: 'human', reasons: [], proxy: 'yahoo' })
  })

  it('keeps the proxy when a proxy request is otherwise a machine', () => {
    expect(classify(req({ kind: 'open', userAgent: GMAIL_PROXY, method: 'HEAD' }))).toEqual({ class: 'machine_open', reasons: ['head_request'], proxy: 'gmail' })
  })

  it("flags Gmail's delivery-time prefetch", () => {
    expect(classify(req({ kind: 'open', userAgent: GMAIL_PREFETCH_UA }))).toEqual({ class: 'machine_open', reasons: ['gmail_prefetch'], proxy: '' })
  })

  it.each([
    'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    'Twitterbot/1.0',
    'WhatsApp/2.23.20.0 A',
    'TelegramBot (like TwitterBot)',
    'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
    'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)',
    'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5',
    'MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview',
  ])('flags link preview %s', (userAgent) => {
    expect(classify(req({ userAgent }))).toEqual({ class: 'scanner_click', reasons: ['link_preview'], proxy: '' })
    expect(classify(req({ userAgent, kind: 'open' })).class).toBe('machine_open')
  })

  it.each([
    'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))',
    'Microsoft Office Existence Discovery',
    'Mozilla/5.0 (compatible; Mimecast URL Protect)',
    'Mozilla/5.0 (compatible; Proofpoint URL Defense)',
  ])('flags security scanner %s', (userAgent) => {
    expect(classify(req({ userAgent }))).toEqual({ class: 'scanner_click', reasons: ['scanner_ua'], proxy: '' })
  })

  it('classes crawlers through isbot', () => {
    const googlebot = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
    expect(classify(req({ userAgent: googlebot }))).toEqual({ class: 'crawler', reasons: ['crawler_ua'], proxy: '' })
    expect(classify(req({ userAgent: 'curl/8.5.0', kind: 'open', method: 'HEAD' }))).toEqual({ class: 'crawler', reasons: ['crawler_ua', 'head_request'], proxy: '' })
  })

  it.each([
    ['Outlook', OUTLOOK],
    ['Outlook ms-office', 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)'],
    ['Thunderbird', THUNDERBIRD],
    ['Apple Mail macOS', APPLE_MAIL],
    ['Apple Mail iOS', APPLE_MAIL_IOS],
    ['Airmail (isbot matches it)', 'Airmail 3.6.60 (Mac OS X)'],
  ])('takes %s as human', (_name, userAgent) => {
    expect(classify(req({ userAgent, kind: 'open' }))).toEqual({ class: 'human', reasons: [], proxy: '' })
    expect(classify(req({ userAgent })).class).toBe('human')
  })

  it('flags scanner referers', () => {
    expect(classify(req({ referer: 'https://protect-eu.mimecastprotect.com/s/abc?d=x' })).reasons).toEqual(['scanner_referer'])
    expect(classify(req({ referer: 'https://statics.teams.cdn.office.net/evergreen-assets/x' })).reasons).toEqual(['scanner_referer'])
    expect(classify(req({ referer: 'https://notmimecastprotect.com.evil.example/' })).class).toBe('human')
    expect(classify(req({ referer: 'https://mail.google.com/' })).class).toBe('human')
  })

  it('flags scanner IPs on both kinds and Apple relay IPs on opens only', () => {
    expect(classify(req({ ip: '40.107.22.91' }))).toEqual({ class: 'scanner_click', reasons: ['scanner_ip'], proxy: '' })
    expect(classify(req({ ip: '2a01:111:f403:c201::5', kind: 'open' }))).toEqual({ class: 'machine_open', reasons: ['scanner_ip'], proxy: '' })
    expect(classify(req({ ip: '17.58.101.3', kind: 'open', userAgent: APPLE_MAIL }))).toEqual({ class: 'machine_open', reasons: ['apple_mpp'], proxy: '' })
    expect(classify(req({ ip: '17.58.101.3', kind: 'click' })).class).toBe('human')
    expect(classify(req({ ip: '::ffff:17.58.101.3', kind: 'open', userAgent: 'Mozilla/5.0' })).reasons).toEqual(['apple_mpp'])
    expect(classify(req({ ip: '203.0.113.9', kind: 'open' })).class).toBe('human')
    expect(classify(req({ ip: 'garbage', kind: 'open' })).class).toBe('human')
  })

  it('combines every per-request reason', () => {
    const c = classify(req({ method: 'HEAD', prefetch: 'purpose=prefetch', referer: 'https://x.mimecastprotect.com/', ip: '205.139.110.30', userAgent: 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))' }))
    expect(c).toEqual({ class: 'scanner_click', reasons: ['scanner_ua', 'head_request', 'prefetch_header', 'scanner_referer', 'scanner_ip'], proxy: '' })
  })

  it('returns the shared cached result frozen, and a fresh one when a request signal applies', () => {
    const a = classify(req({}))
    expect(classify(req({}))).toBe(a)
    expect(Object.isFrozen(a) && Object.isFrozen(a.reasons)).toBe(true)
    const b = classify(req({ method: 'HEAD' }))
    expect(Object.isFrozen(b)).toBe(false)
  })

  it('treats an empty UA as a machine', () => {
    expect(classify(req({ userAgent: '' }))).toEqual({ class: 'scanner_click', reasons: ['empty_ua'], proxy: '' })
  })
})

describe('IP ranges', () => {
  const set = IpRangeSet.fromCidrs(['10.0.0.0/8', '192.168.1.0/24', '192.168.1.128/25', '192.168.2.0/24', '1.2.3.4', '2001:db8::/32', '2001:db8:1::/48', '2a00:1450:4000::/37', 'fe80::1', '::/128'])

  it('matches v4 bounds and merges overlapping and adjacent ranges', () => {
    expect(set.has('10.0.0.0')).toBe(true)
    expect(set.has('10.255.255.255')).toBe(true)
    expect(set.has('11.0.0.0')).toBe(false)
    expect(set.has('9.255.255.255')).toBe(false)
    expect(set.has('192.168.1.200')).toBe(true)
    expect(set.has('192.168.2.255')).toBe(true)
    expect(set.has('192.168.3.0')).toBe(false)
    expect(set.has('1.2.3.4')).toBe(true)
    expect(set.has('1.2.3.5')).toBe(false)
    expect(set.counts.v4).toBe(3)
  })

  it('matches v6, compressed forms, zones and v4-mapped addresses', () => {
    expect(set.has('2001:db8::1')).toBe(true)
    expect(set.has('2001:DB8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true)
    expect(set.has('2001:db9::')).toBe(false)
    expect(set.has('2001:db7:ffff::')).toBe(false)
    expect(set.has('2a00:1450:4007:80e::200e')).toBe(true)
    expect(set.has('2a00:1450:4800::1')).toBe(false)
    expect(set.has('fe80::1%eth0')).toBe(true)
    expect(set.has('fe80::2')).toBe(false)
    expect(set.has('::')).toBe(true)
    expect(set.has('::ffff:10.1.2.3')).toBe(true)
    expect(set.has('::ffff:0a01:0203')).toBe(true)
    expect(set.has('::ffff:11.1.2.3')).toBe(false)
    expect(set.counts.v6).toBe(4)
  })

  it('rejects malformed addresses and CIDRs', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', ' 1.2.3.4']) expect(parseIPv4(bad)).toBe(-1)
    const w = new Uint32Array(4)
    for (const bad of ['1::2::3', ':1::', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7:']) expect(parseIPv6(bad, w)).toBe(false)
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4', w)).toBe(true)
    expect([...w]).toEqual([0x10002, 0x30004, 0x50006, 0x01020304])
    expect(() => IpRangeSet.fromCidrs(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/)
    expect(() => IpRangeSet.fromCidrs(['nope/8'])).toThrow(/nope/)
  })

  it('loads the committed data files', () => {
    const r = loadIpRanges()
    expect(r.appleMpp.has('17.0.0.1')).toBe(true)
    expect(r.scanner.has('104.47.1.1')).toBe(true)
    expect(getIpRanges().scanner.counts.v4).toBeGreaterThan(5)
    expect(parseCidrList('# c\n1.2.3.0/24  # x\n\n::1\n')).toEqual(['1.2.3.0/24', '::1'])
  })

  it('extracts referer hosts', () => {
    expect(refererHost('https://user:pw@Foo.Example.com:8443/a?b#c')).toBe('foo.example.com')
    expect(refererHost('https://[2001:db8::1]:443/')).toBe('[2001:db8::1]')
    expect(refererHost('not a url')).toBe('')
  })
})

describe('parseUserAgent', () => {
  it.each([
    [OUTLOOK, { client: 'Outlook', os: 'Windows', device: 'desktop' }],
    ['Outlook-iOS/709.2189947.prod.iphone (4.2.13)', { client: 'Outlook', os: 'iOS', device: 'mobile' }],
    [THUNDERBIRD, { client: 'Thunderbird', os: 'Windows', device: 'desktop' }],
    [APPLE_MAIL, { client: 'Apple Mail', os: 'Mac OS', device: 'desktop' }],
    [APPLE_MAIL_IOS, { client: 'Apple Mail', os: 'iOS', device: 'mobile' }],
    [GMAIL_PROXY, { client: 'Gmail image proxy', os: '', device: 'unknown' }],
    [YAHOO_PROXY, { client: 'Yahoo Mail proxy', os: '', device: 'unknown' }],
    ['Mozilla/5.0', { client: 'Apple MPP', os: '', device: 'unknown' }],
    [CHROME, { client: 'Chrome', os: 'Windows', device: 'desktop' }],
    ['Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', { client: 'Mobile Safari', os: 'iOS', device: 'tablet' }],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', { client: '', os: '', device: 'bot' }],
    ['', { client: '', os: '', device: 'unknown' }],
  ])('parses %s', (ua, want) => {
    expect(parseUserAgent(ua)).toEqual(want)
    expect(parseUserAgent(ua)).toBe(parseUserAgent(ua))
  })
})

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2)
    c.set('a', 1)
    c.set('b', 2)
    expect(c.get('a')).toBe(1)
    c.set('c', 3)
    expect(c.get('b')).toBeUndefined()
    expect(c.get('a')).toBe(1)
    expect(c.get('c')).toBe(3)
    expect(c.size).toBe(2)
  })
})
