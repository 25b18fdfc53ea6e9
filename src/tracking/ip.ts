import { BlockList, isIPv4, isIPv6 } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { parseIPv4, parseIPv6 } from './classify/ip.js'

/** Loopback, private, link-local and shared (CGNAT) ranges: the hops of a load balancer chain, never a reader. */
const internal = new BlockList()
for (const [net, bits] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['127.0.0.0', 8], ['169.254.0.0', 16], ['100.64.0.0', 10]] as const) internal.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) internal.addSubnet(net, bits, 'ipv6')

function isInternal(ip: string): boolean {
  if (isIPv4(ip)) return internal.check(ip, 'ipv4')
  return isIPv6(ip) && internal.check(ip, 'ipv6')
}

/**
 * The client address: the socket's, or behind a trusted load balancer the one it saw, taken from
 * X-Forwarded-For (or the standard Forwarded header). A client can put anything at the left of
 * those lists and proxies append what they saw, so the address is the rightmost one outside the
 * internal ranges (the load balancer's own hops), or the leftmost when all are internal.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (!trustProxy) return req.socket.remoteAddress ?? ''
  const xff = req.headers['x-forwarded-for']
  const fwd = req.headers['forwarded']
  return clientIpFrom(req.socket.remoteAddress ?? '', Array.isArray(xff) ? xff.join(',') : xff, typeof fwd === 'string' ? fwd : undefined, true)
}

/** clientIp from the socket's address and the two headers' values (node:http's joined form for repeats). */
export function clientIpFrom(remoteAddress: string, xff: string | undefined, forwarded: string | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const fromXff = pick((xff ?? '').split(',').map((a) => stripPort(a.trim())))
    if (fromXff) return fromXff
    if (forwarded !== undefined) {
      const fors = [...forwarded.matchAll(/for=("[^"]*"|[^;,\s]+)/gi)].map((m) => {
        const v = m[1]!.replace(/^"|"$/g, '')
        const bracketed = /^\[([^\]]+)\]/.exec(v)
        return bracketed ? bracketed[1]! : stripPort(v)
      })
      const fromForwarded = pick(fors)
      if (fromForwarded) return fromForwarded
    }
  }
  return remoteAddress
}

function pick(addresses: string[]): string | undefined {
  // Not an address ("unknown", obfuscated identifiers of RFC 7239): skipped.
  const list = addresses.filter((a) => isIPv4(a) || isIPv6(a))
  for (let i = list.length - 1; i >= 0; i--) if (!isInternal(list[i]!)) return list[i]
  return list[0]
}

function stripPort(addr: string): string {
  if (isIPv4(addr) || isIPv6(addr)) return addr
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(addr)
  return v4 ? v4[1]! : addr
}

const MAPPED = '::ffff:'
const words = new Uint32Array(4)
const groups = new Array<number>(8)

/**
 * Keeps the first `v4Prefix` / `v6Prefix` bits of an address and zeroes the rest; '' for what is
 * not an address. Parsed by the classifier's parsers (one definition of an address). Only the
 * canonical v4-mapped form, the one sockets report, is read as IPv4.
 */
export function anonymizeIp(ip: string, v4Prefix = 24, v6Prefix = 48): string {
  let v4 = ip.startsWith(MAPPED) ? parseIPv4(ip, MAPPED.length) : -1
  if (v4 >= 0) ip = ip.slice(MAPPED.length)
  else if (ip.indexOf(':') < 0) v4 = parseIPv4(ip)
  if (v4 >= 0) {
    if (v4Prefix >= 32) return ip
    const masked = v4Prefix === 0 ? 0 : (v4 & (~0 << (32 - v4Prefix))) >>> 0
    return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}`
  }
  if (ip.indexOf(':') < 0 || !parseIPv6(ip, words)) return ''
  if (v6Prefix >= 128) return ip
  for (let i = 0; i < 8; i++) {
    const g = i % 2 === 0 ? words[i >> 1]! >>> 16 : words[i >> 1]! & 0xffff
    const bitsLeft = v6Prefix - i * 16
    groups[i] = bitsLeft >= 16 ? g : bitsLeft <= 0 ? 0 : g & (0xffff << (16 - bitsLeft)) & 0xffff
  }
  return compressV6(groups)
}

function compressV6(groups: number[]): string {
  // Collapse the longest run of zero groups, as RFC 5952 asks.
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':')
}
