import { describe, expect, it } from 'vitest'
import type { IncomingMessage } from 'node:http'
import { anonymizeIp, clientIp } from '../../src/tracking/ip.js'

const req = (remote: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress: remote }, headers }) as unknown as IncomingMessage

describe('anonymizeIp', () => {
  it('keeps /24 of IPv4 and /48 of IPv6 by default', () => {
    expect(anonymizeIp('203.0.113.77')).toBe('203.0.113.0')
    expect(anonymizeIp('::ffff:203.0.113.77')).toBe('203.0.113.0')
    expect(anonymizeIp('2001:db8:abcd:1234:5678::1')).toBe('2001:db8:abcd::')
    expect(anonymizeIp('2001:db8::1')).toBe('2001:db8::')
    expect(anonymizeIp('::1')).toBe('::')
  })
  it('follows configured prefixes', () => {
    expect(anonymizeIp('203.0.113.77', 16)).toBe('203.0.0.0')
    expect(anonymizeIp('203.0.113.77', 32)).toBe('203.0.113.77')
    expect(anonymizeIp('2001:db8:abcd:1234::1', 24, 56)).toBe('2001:db8:abcd:1200::')
    expect(anonymizeIp('2001:db8::1', 24, 128)).toBe('2001:db8::1')
  })
  it('gives an empty string for what is not an address', () => {
    expect(anonymizeIp('')).toBe('')
    expect(anonymizeIp('not-an-ip')).toBe('')
  })
})

describe('clientIp', () => {
  it('uses the socket unless the proxy is trusted', () => {
    const r = req('10.0.0.1', { 'x-forwarded-for': '198.51.100.7, 10.0.0.2' })
    expect(clientIp(r, false)).toBe('10.0.0.1')
    expect(clientIp(r, true)).toBe('198.51.100.7')
  })
  it('takes the address the trusted proxy saw, not one the client wrote at the left of the list', () => {
    // The client sent "X-Forwarded-For: 1.2.3.4"; the load balancer appended the address it saw.
    expect(clientIp(req('10.0.0.1', { 'x-forwarded-for': '1.2.3.4, 203.0.113.9' }), true)).toBe('203.0.113.9')
    // Internal hops (a CDN, then the load balancer) are passed over; non-addresses are ignored.
    expect(clientIp(req('10.0.0.1', { 'x-forwarded-for': '1.2.3.4, 203.0.113.9, 10.0.0.2, unknown' }), true)).toBe('203.0.113.9')
    // All internal: the origin, leftmost.
    expect(clientIp(req('10.0.0.1', { 'x-forwarded-for': '192.168.1.20, 10.0.0.2' }), true)).toBe('192.168.1.20')
    expect(clientIp(req('10.0.0.1', { forwarded: 'for=1.2.3.4, for=203.0.113.5;proto=https' }), true)).toBe('203.0.113.5')
  })
  it('reads the standard Forwarded header', () => {
    expect(clientIp(req('10.0.0.1', { forwarded: 'for=198.51.100.9;proto=https' }), true)).toBe('198.51.100.9')
    expect(clientIp(req('10.0.0.1', { forwarded: 'for="[2001:db8::7]:4711"' }), true)).toBe('2001:db8::7')
  })
})
