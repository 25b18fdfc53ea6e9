/** Money as decimal strings with at most 4 decimals (the `Decimal(18, 4)` column): never through a float. */
export const SCALE = 4
const DECIMAL = /^\d{1,14}(?:\.\d{1,4})?$/

/** A non-negative amount as its canonical string, or null when it is not one (negative, NaN, > 4 decimals, too big). */
export function parseAmount(v: unknown): string | null {
  let s: string
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return null
    // The shortest round-trip form: 19.99 is "19.99", so up to 4 decimals survive exactly.
    s = String(v)
  } else if (typeof v === 'string') s = v.trim()
  else return null
  if (!DECIMAL.test(s)) return null
  return fixed(s)
}

/** "12.3" → "12.3000"; accepts what ClickHouse prints for a Decimal (sign, trimmed zeros). */
export function fixed(s: string): string {
  const neg = s.startsWith('-')
  const [i, f = ''] = (neg ? s.slice(1) : s).split('.')
  return (neg ? '-' : '') + (i || '0').replace(/^0+(?=\d)/, '') + '.' + (f + '0000').slice(0, SCALE)
}

/** A decimal string as an integer count of 1/10 000 (exact sums of many amounts without a string per step). */
export function toUnits(s: string): bigint {
  const f = fixed(s)
  const neg = f.startsWith('-')
  const units = BigInt(f.replace('-', '').replace('.', ''))
  return neg ? -units : units
}

/** Back from toUnits: "12.3400". */
export function fromUnits(u: bigint): string {
  const neg = u < 0n
  const a = (neg ? -u : u).toString().padStart(SCALE + 1, '0')
  return (neg ? '-' : '') + a.slice(0, -SCALE) + '.' + a.slice(-SCALE)
}

/** Exact sum of decimal strings. */
export function addDecimal(a: string, b: string): string {
  return fromUnits(toUnits(a) + toUnits(b))
}

/** a / n rounded half-up to 4 decimals (revenue per recipient, average order value); "0.0000" when n is 0. */
export function divDecimal(a: string, n: number): string {
  if (!(n > 0)) return fixed('0')
  const units = toUnits(a)
  const d = BigInt(n)
  const q = units / d
  const r = units % d
  return fromUnits(2n * (r < 0n ? -r : r) >= d ? q + (units < 0n ? -1n : 1n) : q)
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'))

/** ISO 4217 codes known to the runtime's ICU data (EUR, USD, JPY, …). */
export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && CURRENCIES.has(code)
}
