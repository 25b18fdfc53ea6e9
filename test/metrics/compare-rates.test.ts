import { describe, expect, it } from 'vitest'
import { compareGroups } from '../../src/metrics/compare.js'
import { compareConversionGroups } from '../../src/metrics/conversion-compare.js'
import type { GroupRow } from '../../src/metrics/attribution.js'
import { compareProportions, differenceInterval, relativeDifferenceInterval, wilson } from '../../src/metrics/statistics.js'

const orders = (converters: number): GroupRow => ({ key: '', conversions: converters, converters, revenue: {}, orders: {} })
const noMoments = async () => new Map()

describe('rate comparisons share one implementation', () => {
  const counts = [
    { key: 'A', sent: 1000, clickers: 180, converters: 40 },
    { key: 'B', sent: 980, clickers: 210, converters: 61 },
    { key: 'C', sent: 40, clickers: 3, converters: 5 },
  ]
  const compareConversions = (metric: 'conversion_rate' | 'clicker_conversion_rate', alpha: number) =>
    compareConversionGroups(
      counts.map((c) => ({ key: c.key, sent: c.sent, clickers: c.clickers, orders: orders(c.converters) })),
      metric,
      alpha,
      undefined,
      noMoments,
    )

  for (const alpha of [0.05, 0.01]) {
    it(`conversion rates are the engagement comparison's figures (alpha ${alpha})`, async () => {
      const conv = await compareConversions('conversion_rate', alpha)
      const engagement = compareGroups(
        counts.map((c) => ({ key: c.key, sent: c.sent, uniqueOpeners: 0, uniqueClickers: c.converters, engaged: 0 })),
        'click_rate',
        alpha,
      )
      expect(conv.rows).toEqual(engagement.rows)
      expect(conv.differences).toEqual(engagement.differences)
      expect(conv.test).toEqual(engagement.test)
      expect(conv.currency).toBeNull()
    })
  }

  it('clicker conversion rates: converters capped at the clickers, the statistics module applied as defined', async () => {
    const alpha = 0.05
    const conv = await compareConversions('clicker_conversion_rate', alpha)
    const trials = counts.map((c) => c.clickers)
    const successes = counts.map((c) => Math.min(c.converters, c.clickers))
    expect(conv.rows).toEqual(counts.map((c, i) => ({ key: c.key, sent: c.sent, trials: trials[i], successes: successes[i], rate: wilson(successes[i]!, trials[i]!, 0.95) })))
    expect(conv.differences).toEqual(
      [1, 2].map((i) => ({
        key: counts[i]!.key,
        versus: 'A',
        absolute: differenceInterval(successes[i]!, trials[i]!, successes[0]!, trials[0]!, 0.95),
        relative: relativeDifferenceInterval(successes[i]!, trials[i]!, successes[0]!, trials[0]!, 0.95),
      })),
    )
    expect(conv.test).toEqual(compareProportions(counts.map((c, i) => ({ key: c.key, successes: successes[i]!, n: trials[i]! })), alpha))
  })
})
