/**
 * The statistics the metrics API reports, pure and dependency-free: Wilson intervals, the
 * two-proportion z-test, the chi-square test of independence, Newcombe's interval of a
 * difference, the "not enough data" rule and the projection of a test send onto a full list.
 *
 * erf/erfc and the chi-square tail both go through the regularized incomplete gamma function
 * (series below a+1, Lentz continued fraction above), accurate to ~1e-14 relative even far in
 * the tails, where the usual 7-digit approximations (Abramowitz-Stegun 7.1.26) return nonsense.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x)
  const z = x - 1
  let a = LANCZOS[0]!
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

const EPS = 1e-16
const TINY = 1e-300

/** Regularized lower incomplete gamma P(a, x), by its power series (good for x < a + 1). */
function gammaPSeries(a: number, x: number): number {
  let ap = a
  let sum = 1 / a
  let del = sum
  for (let n = 0; n < 10_000; n++) {
    ap += 1
    del *= x / ap
    sum += del
    if (Math.abs(del) < Math.abs(sum) * EPS) break
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a))
}

/** Regularized upper incomplete gamma Q(a, x), by its continued fraction (good for x >= a + 1). */
function gammaQFraction(a: number, x: number): number {
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < EPS) break
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQFraction(a, x)
}

/** Regularized lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQFraction(a, x)
}

/** erf(x) = P(1/2, x²) with the sign of x. */
export function erf(x: number): number {
  const v = gammaP(0.5, x * x)
  return x < 0 ? -v : v
}

/** erfc(x), computed directly in the upper tail so tiny values keep their digits. */
export function erfc(x: number): number {
  return x < 0 ? 1 + gammaP(0.5, x * x) : gammaQ(0.5, x * x)
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2)
}

/** Standard normal quantile Φ⁻¹(p): Acklam's rational start refined by Newton steps on Φ. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity
    if (p === 1) return Infinity
    return NaN
  }
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  let x: number
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  } else if (p <= 1 - lo) {
    const q = p - 0.5
    const r = q * q
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  }
  for (let i = 0; i < 3; i++) {
    const e = normalCdf(x) - p
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2)
    x -= u / (1 + (x * u) / 2)
  }
  return x
}

/** Survival function of the chi-square distribution: P(X ≥ x) with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2)
}

export interface Interval {
  value: number
  low: number
  high: number
}

/** Wilson score interval of successes/n (Wilson 1927; Newcombe 1998, method 3). n = 0 → the whole [0, 1]. */
export function wilson(successes: number, n: number, confidence = 0.95): Interval {
  if (n <= 0) return { value: 0, low: 0, high: 1 }
  const z = normalQuantile(1 - (1 - confidence) / 2)
  const p = successes / n
  const z2 = z * z
  const centre = p + z2 / (2 * n)
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  const denom = 1 + z2 / n
  return { value: p, low: Math.max(0, (centre - half) / denom), high: Math.min(1, (centre + half) / denom) }
}

/**
 * Interval of p1 − p2 by Newcombe's hybrid score method (Newcombe 1998, method 10): the Wilson
 * limits of each proportion combined; good coverage even with zero counts, unlike Wald.
 */
export function differenceInterval(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): Interval {
  const p1 = n1 > 0 ? x1 / n1 : 0
  const p2 = n2 > 0 ? x2 / n2 : 0
  const a = wilson(x1, n1, confidence)
  const b = wilson(x2, n2, confidence)
  const d = p1 - p2
  const low = d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2)
  const high = d + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)
  return { value: d, low, high }
}

/**
 * Interval of the relative difference p1/p2 − 1 (Katz log method for the risk ratio).
 * Null when either group has no success: the ratio is then undefined or unbounded.
 */
export function relativeDifferenceInterval(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): Interval | null {
  if (x1 <= 0 || x2 <= 0 || n1 <= 0 || n2 <= 0) return null
  const z = normalQuantile(1 - (1 - confidence) / 2)
  const rr = x1 / n1 / (x2 / n2)
  const se = Math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
  return { value: rr - 1, low: rr * Math.exp(-z * se) - 1, high: rr * Math.exp(z * se) - 1 }
}

export interface Group {
  key: string
  successes: number
  n: number
}

export interface TestResult {
  name: 'two_proportion_z' | 'chi_square' | 'none'
  statistic: number | null
  df: number | null
  pValue: number | null
  significant: boolean
  winner: string | null
  reason: 'not_enough_data' | 'no_single_winner' | 'no_variation' | 'single_group' | null
  /** With not_enough_data: an estimate of the sends each group needs (null when it cannot be estimated). */
  neededPerGroup: number | null
}

/** Fewer than this many trials in a group, or fewer expected successes/failures: no test. */
export const MIN_GROUP_N = 30
export const MIN_EXPECTED = 5

/** Two-sided two-proportion z-test with the pooled standard error (equals Pearson's chi-square on the 2×2 table). */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): { z: number; pValue: number } {
  const pooled = (x1 + x2) / (n1 + n2)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  if (se === 0) return { z: 0, pValue: 1 }
  const z = (x1 / n1 - x2 / n2) / se
  return { z, pValue: erfc(Math.abs(z) / Math.SQRT2) }
}

/** Pearson's chi-square test of independence on a k×2 table (successes, failures per group). */
export function chiSquareIndependence(groups: Group[]): { statistic: number; df: number; pValue: number } {
  const N = groups.reduce((s, g) => s + g.n, 0)
  const X = groups.reduce((s, g) => s + g.successes, 0)
  const p = X / N
  let stat = 0
  for (const g of groups) {
    const es = g.n * p
    const ef = g.n * (1 - p)
    if (es > 0) stat += (g.successes - es) ** 2 / es
    if (ef > 0) stat += (g.n - g.successes - ef) ** 2 / ef
  }
  const df = groups.length - 1
  return { statistic: stat, df, pValue: chiSquareSurvival(stat, df) }
}

/**
 * Sends per group for a two-sided test at `alpha` with 80% power to detect the difference
 * observed between the two extreme groups (normal approximation, Fleiss' formula without
 * continuity correction), and never below what the not-enough-data rule asks for.
 */
export function sampleSizePerGroup(p1: number, p2: number, alpha: number, power = 0.8): number | null {
  const pooled = (p1 + p2) / 2
  const minForExpected = pooled > 0 && pooled < 1 ? Math.ceil(MIN_EXPECTED / Math.min(pooled, 1 - pooled)) : null
  const delta = Math.abs(p1 - p2)
  if (minForExpected === null) return null
  if (delta === 0) return Math.max(MIN_GROUP_N, minForExpected)
  const za = normalQuantile(1 - alpha / 2)
  const zb = normalQuantile(power)
  const n = (za * Math.sqrt(2 * pooled * (1 - pooled)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / delta ** 2
  return Math.max(MIN_GROUP_N, minForExpected, Math.ceil(n))
}

/**
 * Compares the success rates of two or more groups: a z-test for two, chi-square for more. A winner
 * is named only when the test is significant at `alpha` and, with more than two groups, the best
 * group also beats the runner-up in its own z-test.
 */
export function compareProportions(groups: Group[], alpha = 0.05): TestResult {
  const base = { statistic: null, df: null, pValue: null, significant: false, winner: null, neededPerGroup: null }
  if (groups.length < 2) return { name: 'none', ...base, reason: 'single_group' }
  const name = groups.length === 2 ? 'two_proportion_z' : 'chi_square'
  const N = groups.reduce((s, g) => s + g.n, 0)
  const X = groups.reduce((s, g) => s + g.successes, 0)
  const pooled = N > 0 ? X / N : 0
  const tooSmall = groups.some((g) => g.n < MIN_GROUP_N || g.n * pooled < MIN_EXPECTED || g.n * (1 - pooled) < MIN_EXPECTED)
  const rates = groups.map((g) => (g.n > 0 ? g.successes / g.n : 0))
  if (tooSmall) {
    return { name, ...base, reason: 'not_enough_data', neededPerGroup: sampleSizePerGroup(Math.max(...rates), Math.min(...rates), alpha) }
  }
  let statistic: number
  let df: number
  let pValue: number
  if (groups.length === 2) {
    const [a, b] = groups as [Group, Group]
    const t = twoProportionZ(a.successes, a.n, b.successes, b.n)
    statistic = t.z
    df = 1
    pValue = t.pValue
  } else {
    ;({ statistic, df, pValue } = chiSquareIndependence(groups))
  }
  const significant = pValue < alpha
  if (!significant) return { name, statistic, df, pValue, significant, winner: null, reason: null, neededPerGroup: null }
  const order = groups.map((g, i) => ({ g, r: rates[i]! })).sort((x, y) => y.r - x.r)
  const best = order[0]!
  const second = order[1]!
  if (groups.length > 2) {
    const pair = twoProportionZ(best.g.successes, best.g.n, second.g.successes, second.g.n)
    if (!(pair.pValue < alpha)) return { name, statistic, df, pValue, significant, winner: null, reason: 'no_single_winner', neededPerGroup: null }
  }
  return { name, statistic, df, pValue, significant, winner: best.g.key, reason: null, neededPerGroup: null }
}

export interface Projection {
  /** Expected count on the full list: listSize × the rate measured on the test send. */
  expected: number
  low: number
  high: number
  rate: Interval
}

/**
 * Expected successes on a list of `listSize` from `successes`/`n` on a test send: the Wilson
 * interval of the rate scaled to the list, widened by the list's own binomial spread.
 */
export function projectCount(successes: number, n: number, listSize: number, confidence = 0.95): Projection {
  const rate = wilson(successes, n, confidence)
  const z = normalQuantile(1 - (1 - confidence) / 2)
  const spread = (p: number) => z * Math.sqrt(listSize * p * (1 - p))
  return {
    expected: listSize * rate.value,
    low: Math.max(0, listSize * rate.low - spread(rate.low)),
    high: Math.min(listSize, listSize * rate.high + spread(rate.high)),
    rate,
  }
}
