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

const DECIMALS = new Map<string, number>()

/**
 * Minor-unit digits of a currency (EUR and USD 2, JPY 0, BHD 3), from the runtime's ICU data;
 * 2 for a code it does not know. How every amount is shown, in the API and on the dashboard.
 */
export function currencyDecimals(currency: string): number {
  let d = DECIMALS.get(currency)
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    } catch {
      d = 2
    }
    DECIMALS.set(currency, d)
  }
  return d
}

/**
 * An exact amount in its currency's own decimals, rounded half away from zero, without a float:
 * "60.0000" EUR is "60.00", "1000.0000" JPY is "1000", "1.2345" BHD is "1.235". The one way an
 * amount leaves the metrics (sums and divisions run on the 4-decimal strings before it).
 */
export function inCurrency(amount: string, currency: string): string {
  const digits = Math.min(SCALE, currencyDecimals(currency))
  const units = toUnits(amount)
  const step = 10n ** BigInt(SCALE - digits)
  const neg = units < 0n
  const abs = neg ? -units : units
  const rounded = ((abs + step / 2n) / step) * step
  const s = fromUnits(neg && rounded > 0n ? -rounded : rounded)
  return digits === 0 ? s.slice(0, s.indexOf('.')) : s.slice(0, s.length - (SCALE - digits))
}

/** inCurrency for each entry of a per-currency map (`{EUR: "12.3400", JPY: "500.0000"}` → `{EUR: "12.34", JPY: "500"}`). */
export function revenueInCurrency(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).map(([c, v]) => [c, inCurrency(v, c)]))
}
