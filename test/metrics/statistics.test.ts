import { describe, expect, it } from 'vitest'
import {
  chiSquareIndependence,
  chiSquareSurvival,
  compareProportions,
  differenceInterval,
  erf,
  erfc,
  lnGamma,
  normalCdf,
  normalQuantile,
  projectCount,
  relativeDifferenceInterval,
  sampleSizePerGroup,
  twoProportionZ,
  wilson,
} from '../../src/metrics/statistics.js'

const close = (actual: number, expected: number, rel = 1e-12) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * rel + 1e-300)

describe('special functions', () => {
  // Reference values: Abramowitz & Stegun table 7.1 (erf 1), and DLMF 7.2 / any 16-digit table for the tails.
  it('erf, erfc and Φ keep their digits, also far in the tails', () => {
    close(erf(1), 0.8427007929497149, 1e-14)
    close(erf(-0.5), -0.5204998778130465, 1e-14)
    close(erfc(5), 1.5374597944280349e-12, 1e-12)
    close(erfc(10), 2.088487583762545e-45, 1e-11)
    close(normalCdf(1.96), 0.9750021048517795, 1e-14)
    close(normalCdf(-3), 0.0013498980316301, 1e-12)
    close(normalCdf(-8), 6.22096057427178e-16, 1e-11)
  })

  it('Φ⁻¹ inverts Φ (z 0.975 = 1.959963984540054)', () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-13)
    close(normalQuantile(0.8), 0.8416212335729143, 1e-13)
    close(normalQuantile(1e-10), -6.361340902404056, 1e-12)
  })

  it('ln Γ at known points', () => {
    close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14)
    close(Math.exp(lnGamma(5)), 24, 1e-13)
  })

  // Critical values from the standard chi-square table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
  it('chi-square survival matches the table’s critical values', () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 7)
    expect(chiSquareSurvival(5.991465, 2)).toBeCloseTo(0.05, 7)
    expect(chiSquareSurvival(7.814728, 3)).toBeCloseTo(0.05, 7)
    expect(chiSquareSurvival(18.307038, 10)).toBeCloseTo(0.05, 7)
    expect(chiSquareSurvival(23.209251, 10)).toBeCloseTo(0.01, 7)
    expect(chiSquareSurvival(6.634897, 1)).toBeCloseTo(0.01, 7)
  })
})

describe('intervals', () => {
  // Newcombe RG (1998), Two-sided confidence intervals for the single proportion, Stat Med 17:857-872, table I, method 3.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1],
  ])('Wilson %i/%i = [%f, %f]', (x, n, low, high) => {
    const w = wilson(x, n)
    expect(w.value).toBeCloseTo(x / n, 12)
    expect(w.low).toBeCloseTo(low, 4)
    expect(w.high).toBeCloseTo(high, 4)
  })

  // Newcombe RG (1998), Interval estimation for the difference between independent proportions, Stat Med 17:873-890, table II, method 10.
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [6, 7, 2, 7, 0.0582, 0.8062],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
  ])('hybrid score difference %i/%i − %i/%i = [%f, %f]', (x1, n1, x2, n2, low, high) => {
    const d = differenceInterval(x1, n1, x2, n2)
    expect(d.value).toBeCloseTo(x1 / n1 - x2 / n2, 12)
    expect(d.low).toBeCloseTo(low, 4)
    expect(d.high).toBeCloseTo(high, 4)
  })

  it('relative difference by the Katz log interval; null without successes', () => {
    // 56/70 vs 48/80: RR = 1.3333, se(ln RR) = sqrt(1/56 − 1/70 + 1/48 − 1/80) = 0.10351
    const r = relativeDifferenceInterval(56, 70, 48, 80)!
    expect(r.value).toBeCloseTo(1 / 3, 12)
    const se = Math.sqrt(1 / 56 - 1 / 70 + 1 / 48 - 1 / 80)
    expect(r.low).toBeCloseTo((4 / 3) * Math.exp(-1.959963984540054 * se) - 1, 10)
    expect(r.high).toBeCloseTo((4 / 3) * Math.exp(1.959963984540054 * se) - 1, 10)
    expect(relativeDifferenceInterval(0, 10, 3, 10)).toBeNull()
  })
})

describe('tests', () => {
  // References: Pearson chi-square without continuity correction (R's prop.test(correct = FALSE),
  // here from scipy.stats.chi2_contingency(correction=False)); z² equals that chi-square.
  it('two-proportion z-test: 56/70 vs 48/80 → χ² 7.023411, p 0.008045081', () => {
    const t = twoProportionZ(56, 70, 48, 80)
    close(t.z * t.z, 7.023411371237456, 1e-12)
    close(t.pValue, 0.008045081368196585, 1e-10)
  })

  it('two-proportion z-test: 120/1000 vs 90/1000 → p 0.02865024', () => {
    close(twoProportionZ(120, 1000, 90, 1000).pValue, 0.028650240398448427, 1e-10)
  })

  it('chi-square of independence on a 3×2 table → χ² 18.181818 (df 2), p 0.000112686', () => {
    const t = chiSquareIndependence([
      { key: 'a', successes: 30, n: 100 },
      { key: 'b', successes: 45, n: 100 },
      { key: 'c', successes: 60, n: 100 },
    ])
    close(t.statistic, 18.18181818181818, 1e-12)
    expect(t.df).toBe(2)
    close(t.pValue, 0.00011268558050780092, 1e-10)
  })

  it('names a winner only when significant', () => {
    const win = compareProportions([
      { key: 'A', successes: 48, n: 80 },
      { key: 'B', successes: 56, n: 70 },
    ])
    expect(win).toMatchObject({ name: 'two_proportion_z', significant: true, winner: 'B', reason: null })
    const none = compareProportions([
      { key: 'A', successes: 100, n: 1000 },
      { key: 'B', successes: 105, n: 1000 },
    ])
    expect(none).toMatchObject({ significant: false, winner: null })
    expect(none.pValue).toBeGreaterThan(0.05)
    // With alpha 0.005 the first pair is no longer significant (p = 0.008).
    expect(compareProportions([{ key: 'A', successes: 48, n: 80 }, { key: 'B', successes: 56, n: 70 }], 0.005)).toMatchObject({ winner: null, significant: false })
  })

  it('chi-square for three groups, winner only if the best also beats the runner-up', () => {
    const t = compareProportions([
      { key: 'a', successes: 200, n: 10000 },
      { key: 'b', successes: 260, n: 10000 },
      { key: 'c', successes: 230, n: 10000 },
    ])
    expect(t.name).toBe('chi_square')
    close(t.pValue!, 0.01822133335341876, 1e-10)
    expect(t.significant).toBe(true)
    // b vs c: 260 vs 230 of 10000 is not significant (p ≈ 0.17): no single winner.
    expect(t).toMatchObject({ winner: null, reason: 'no_single_winner' })
    const clear = compareProportions([
      { key: 'a', successes: 30, n: 100 },
      { key: 'b', successes: 45, n: 100 },
      { key: 'c', successes: 70, n: 100 },
    ])
    expect(clear.winner).toBe('c')
  })

  it('says not enough data for small groups, with the sends each group needs', () => {
    const t = compareProportions([
      { key: 'A', successes: 2, n: 20 },
      { key: 'B', successes: 5, n: 20 },
    ])
    expect(t).toMatchObject({ pValue: null, significant: false, winner: null, reason: 'not_enough_data' })
    // 0.25 vs 0.10 at alpha 0.05, power 0.8: (1.95996·√(2·0.175·0.825) + 0.84162·√(0.1875+0.09))² / 0.15² = 99.8 → 100
    expect(t.neededPerGroup).toBe(100)
    expect(sampleSizePerGroup(0.25, 0.1, 0.05)).toBe(100)
    // Rare successes: at least 5 expected per group.
    expect(compareProportions([{ key: 'A', successes: 1, n: 100 }, { key: 'B', successes: 1, n: 100 }]).reason).toBe('not_enough_data')
    expect(compareProportions([{ key: 'A', successes: 0, n: 100 }, { key: 'B', successes: 0, n: 100 }]).neededPerGroup).toBeNull()
  })
})

describe('projection of a test send onto a full list', () => {
  it('scales the Wilson interval and adds the list’s binomial spread', () => {
    // 81 opens of 263 test sends, list of 100000: expected 30798.5; Wilson [0.2553, 0.3662].
    const p = projectCount(81, 263, 100_000)
    expect(p.expected).toBeCloseTo((81 / 263) * 100_000, 8)
    expect(p.rate.low).toBeCloseTo(0.2553, 4)
    const z = 1.959963984540054
    expect(p.low).toBeCloseTo(100_000 * p.rate.low - z * Math.sqrt(100_000 * p.rate.low * (1 - p.rate.low)), 6)
    expect(p.high).toBeCloseTo(100_000 * p.rate.high + z * Math.sqrt(100_000 * p.rate.high * (1 - p.rate.high)), 6)
  })
})
