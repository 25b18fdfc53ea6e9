/** The classifier's reason codes (README "Human or machine") as a marketer reads them. */
const REASON_NAMES: Record<string, string> = {
  apple_mpp: 'Apple Mail Privacy Protection',
  bare_ua: 'bare browser signature',
  gmail_prefetch: 'Gmail delivery prefetch',
  head_request: 'HEAD requests',
  prefetch_header: 'prefetches',
  link_preview: 'link previews',
  scanner_ua: 'security scanners',
  scanner_referer: 'security scanners (referrer)',
  scanner_ip: 'security scanners (address)',
  crawler_ua: 'crawlers',
  empty_ua: 'no user agent',
  burst: 'bursts of clicks',
  shared_ip_burst: 'many recipients from one address',
  honeypot: 'hidden link followed',
  too_soon_after_send: 'clicked within 5 s of the send',
}

export function reasonName(code: string): string {
  return REASON_NAMES[code] ?? code.replace(/_/g, ' ')
}
