/**
 * IP range matching for the hot path. CIDRs are parsed once into sorted, merged numeric
 * ranges: IPv4 as uint32 in a Uint32Array, IPv6 as four uint32 words per bound (no BigInt,
 * which allocates on every comparison). A lookup is one parse and one binary search.
 */

/**
 * Parses dotted-quad IPv4 text into a uint32, or -1 when it is not one. A leading zero (01.2.3.4)
 * is refused, as node:net does: some parsers read it as octal, so it names no one address.
 */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0
  let octet = 0
  let digits = 0
  let dots = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1
      octet = octet * 10 + (c - 48)
      if (++digits > 3 || octet > 255) return -1
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1
      value = value * 256 + octet
      octet = 0
      digits = 0
    } else return -1
  }
  if (dots !== 3 || digits === 0) return -1
  return value * 256 + octet
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** A zone id's characters (RFC 4007 leaves them open; these are the ones node:net accepts). */
function zoneChar(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46
}

/**
 * Parses IPv6 text into `out` as four big-endian uint32 words; false when it is not IPv6.
 * Accepts `::` compression, an embedded IPv4 tail, and drops a `%zone` suffix (not an empty one).
 */
export function parseIPv6(s: string, out: Uint32Array): boolean {
  let end = s.indexOf('%')
  if (end < 0) end = s.length
  else {
    if (end + 1 === s.length) return false
    for (let k = end + 1; k < s.length; k++) if (!zoneChar(s.charCodeAt(k))) return false
  }
  const groups: number[] = []
  let gap = -1
  let i = 0
  if (end >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0
    i = 2
  } else if (end > 0 && s.charCodeAt(0) === 58) return false
  while (i < end) {
    let j = i
    let v = 0
    while (j < end && j - i < 5) {
      const h = hexVal(s.charCodeAt(j))
      if (h < 0) break
      v = v * 16 + h
      j++
    }
    if (j < end && s.charCodeAt(j) === 46) {
      const v4 = parseIPv4(s, i, end)
      if (v4 < 0 || groups.length > 6) return false
      groups.push(v4 >>> 16, v4 & 0xffff)
      i = end
      break
    }
    if (j === i || j - i > 4) return false
    groups.push(v)
    if (groups.length > 8) return false
    if (j === end) {
      i = end
      break
    }
    if (s.charCodeAt(j) !== 58) return false
    if (j + 1 < end && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false
      gap = groups.length
      i = j + 2
    } else {
      i = j + 1
      if (i === end) return false
    }
  }
  let words: number[]
  if (gap >= 0) {
    if (groups.length > 7) return false
    words = groups.slice(0, gap)
    for (let k = groups.length; k < 8; k++) words.push(0)
    words.push(...groups.slice(gap))
  } else {
    if (groups.length !== 8) return false
    words = groups
  }
  for (let k = 0; k < 4; k++) out[k] = ((words[2 * k]! << 16) | words[2 * k + 1]!) >>> 0
  return true
}

const scratch = new Uint32Array(4)

/** IPv6 text that is a v4-mapped address (::ffff:a.b.c.d) is matched as IPv4. */
function mappedV4(w: Uint32Array): number {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff ? w[3]! : -1
}

function cmp6(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k]!
    const y = b[bi + k]!
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

interface Range6 {
  lo: Uint32Array
  hi: Uint32Array
}

/** A set of IP ranges built once from CIDR text and queried by binary search. */
export class IpRangeSet {
  /** Flattened [start, end] pairs, sorted and merged. */
  readonly #v4: Uint32Array
  /** Flattened [start(4 words), end(4 words)] pairs, sorted and merged. */
  readonly #v6: Uint32Array

  private constructor(v4: Uint32Array, v6: Uint32Array) {
    this.#v4 = v4
    this.#v6 = v6
  }

  /** Number of merged v4 and v6 ranges. */
  get counts(): { v4: number; v6: number } {
    return { v4: this.#v4.length / 2, v6: this.#v6.length / 8 }
  }

  /**
   * Builds a set from CIDR strings (a bare address counts as /32 or /128). Throws on a
   * malformed entry, naming it, so a broken data file stops the process at start.
   */
  static fromCidrs(cidrs: Iterable<string>): IpRangeSet {
    const v4: Array<[number, number]> = []
    const v6: Range6[] = []
    for (const raw of cidrs) {
      const cidr = raw.trim()
      if (!cidr) continue
      const slash = cidr.indexOf('/')
      const addr = slash < 0 ? cidr : cidr.slice(0, slash)
      const bitsText = slash < 0 ? '' : cidr.slice(slash + 1)
      if (bitsText && !/^\d{1,3}$/.test(bitsText)) throw new Error(`invalid CIDR: ${cidr}`)
      const a4 = parseIPv4(addr)
      if (a4 >= 0) {
        const bits = bitsText ? Number(bitsText) : 32
        if (bits > 32) throw new Error(`invalid CIDR: ${cidr}`)
        const size = 2 ** (32 - bits)
        const lo = a4 - (a4 % size)
        v4.push([lo, lo + size - 1])
        continue
      }
      const w = new Uint32Array(4)
      if (!parseIPv6(addr, w)) throw new Error(`invalid CIDR: ${cidr}`)
      const bits = bitsText ? Number(bitsText) : 128
      if (bits > 128) throw new Error(`invalid CIDR: ${cidr}`)
      const lo = new Uint32Array(4)
      const hi = new Uint32Array(4)
      for (let k = 0; k < 4; k++) {
        const keep = Math.max(0, Math.min(32, bits - 32 * k))
        const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0
        lo[k] = (w[k]! & mask) >>> 0
        hi[k] = (lo[k]! | (~mask >>> 0)) >>> 0
      }
      v6.push({ lo, hi })
    }

    v4.sort((a, b) => a[0] - b[0])
    const m4: number[] = []
    for (const [lo, hi] of v4) {
      const n = m4.length
      if (n > 0 && lo <= m4[n - 1]! + 1) m4[n - 1] = Math.max(m4[n - 1]!, hi)
      else m4.push(lo, hi)
    }

    v6.sort((a, b) => cmp6(a.lo, 0, b.lo, 0))
    const m6: Range6[] = []
    for (const r of v6) {
      const last = m6[m6.length - 1]
      if (last && cmp6(r.lo, 0, last.hi, 0) <= 0) {
        if (cmp6(r.hi, 0, last.hi, 0) > 0) last.hi = r.hi
      } else m6.push({ lo: r.lo, hi: r.hi })
    }
    const flat6 = new Uint32Array(m6.length * 8)
    m6.forEach((r, i) => {
      flat6.set(r.lo, i * 8)
      flat6.set(r.hi, i * 8 + 4)
    })
    return new IpRangeSet(Uint32Array.from(m4), flat6)
  }

  /** True when the address (v4, v6 or v4-mapped v6 text) is inside one of the ranges. */
  has(ip: string): boolean {
    if (!ip) return false
    if (ip.indexOf(':') < 0) {
      const a = parseIPv4(ip)
      return a >= 0 && this.has4(a)
    }
    if (!parseIPv6(ip, scratch)) return false
    const m = mappedV4(scratch)
    return m >= 0 ? this.has4(m) : this.has6(scratch)
  }

  has4(a: number): boolean {
    const r = this.#v4
    let lo = 0
    let hi = r.length / 2 - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (r[mid * 2]! <= a) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && a <= r[hi * 2 + 1]!
  }

  has6(w: Uint32Array): boolean {
    const r = this.#v6
    let lo = 0
    let hi = r.length / 8 - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (cmp6(r, mid * 8, w, 0) <= 0) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && cmp6(w, 0, r, hi * 8 + 4) <= 0
  }
}
