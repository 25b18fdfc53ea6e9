import { describe, expect, it } from 'vitest'
import { chartSeries, seriesInterval } from '../../src/dashboard/pages/campaign.js'
import { mapBounded } from '../../src/dashboard/pages/campaigns.js'
import { wallTimeToInstant } from '../../src/dashboard/wall-time.js'
import { verdictText } from '../../src/dashboard/pages/verdict.js'
import { fmtRevenue } from '../../src/dashboard/layout.js'
import { clickMapHtml } from '../../src/dashboard/clickmap.js'
import { compileTemplate } from '../../src/rewrite/index.js'
import { compareGroups } from '../../src/metrics/compare.js'

const bucket = (iso: string, value: number) => ({ start: iso, local: iso.slice(0, 19), value })

describe('chartSeries', () => {
  it('gives a lone bucket an empty neighbour on each side, one interval away', () => {
    const t = Date.parse('2026-11-23T09:00:00Z') / 1000
    expect(chartSeries([bucket('2026-11-23T09:00:00.000Z', 7)], [bucket('2026-11-23T09:00:00.000Z', 2)], 'hour')).toEqual({
      t: [t - 3600, t, t + 3600],
      opens: [0, 7, 0],
      clicks: [0, 2, 0],
    })
    expect(chartSeries([bucket('2026-11-23T09:00:00.000Z', 7)], [], 'minute').t).toEqual([t - 60, t, t + 60])
  })

  it('leaves two or more buckets as they are', () => {
    const s = chartSeries([bucket('2026-11-23T09:00:00.000Z', 1), bucket('2026-11-23T10:00:00.000Z', 3)], [bucket('2026-11-23T09:00:00.000Z', 0), bucket('2026-11-23T10:00:00.000Z', 1)], 'hour')
    expect(s.t).toHaveLength(2)
    expect(s.opens).toEqual([1, 3])
    expect(s.clicks).toEqual([0, 1])
  })
})

describe('seriesInterval', () => {
  const H = 3_600_000
  it('picks minutes within three hours, hours up to two weeks, days beyond', () => {
    expect(seriesInterval(0, 0)).toBe('minute')
    expect(seriesInterval(0, 3 * H)).toBe('minute')
    expect(seriesInterval(0, 3 * H + 1)).toBe('hour')
    expect(seriesInterval(0, 14 * 24 * H)).toBe('hour')
    expect(seriesInterval(0, 14 * 24 * H + 1)).toBe('day')
  })
})

describe('wallTimeToInstant', () => {
  it('reads a datetime-local value on the wall clock of the zone, DST included', () => {
    expect(wallTimeToInstant('2026-01-15T09:00', 'UTC')).toBe(Date.parse('2026-01-15T09:00:00Z'))
    expect(wallTimeToInstant('2026-01-15T09:00', 'Europe/Paris')).toBe(Date.parse('2026-01-15T08:00:00Z'))
    expect(wallTimeToInstant('2026-07-15T09:00', 'Europe/Paris')).toBe(Date.parse('2026-07-15T07:00:00Z'))
    expect(wallTimeToInstant('2026-07-15T09:00:30', 'America/New_York')).toBe(Date.parse('2026-07-15T13:00:30Z'))
    // The day of the spring change, after it: already summer time.
    expect(wallTimeToInstant('2026-03-29T12:00', 'Europe/Paris')).toBe(Date.parse('2026-03-29T10:00:00Z'))
  })

  it('refuses what is not a date and time', () => {
    for (const v of ['', 'yesterday', '2026-01-15', '2026-13-45T99:00', '2026-01-15T09:00Z']) expect(wallTimeToInstant(v, 'UTC')).toBeNull()
  })
})

describe('mapBounded', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0
    let peak = 0
    const out = await mapBounded([50, 10, 30, 5, 20, 1, 15], 3, async (ms) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((r) => setTimeout(r, ms))
      running--
      return ms * 2
    })
    expect(out).toEqual([100, 20, 60, 10, 40, 2, 30])
    expect(peak).toBe(3)
    expect(await mapBounded([], 3, async (x: number) => x)).toEqual([])
  })
})

describe('verdictText', () => {
  const g = (key: string, sent: number, clickers: number) => ({ key, sent, uniqueOpeners: clickers * 2, uniqueClickers: clickers, engaged: clickers * 2 })
  const text = (a: [number, number], b: [number, number]) => verdictText(compareGroups([g('A', ...a), g('B', ...b)], 'click_rate', 0.05))

  it('names the metric, the leader and its lift in points with the interval, significant or not', () => {
    expect(text([1000, 90], [1000, 120])).toBe('B beats A on click rate, +3.0 points (+0.3 to +5.7), significant (p = 0.03, 95% interval).')
    expect(text([300, 28], [300, 20])).toBe('A leads on click rate, +2.7 points (\u22121.7 to +7.1), not significant yet (p = 0.23): about 2,700 more sends needed.')
    expect(text([10, 1], [10, 2])).toBe('B leads on click rate, +10.0 points (\u221223.6 to +42.1), not significant yet: about 380 more sends needed.')
    expect(text([100, 10], [100, 10])).toBe('No difference in click rate between A and B (10.0% each).')
  })
})

describe('fmtRevenue', () => {
  it('writes each currency with its own decimals', () => {
    expect(fmtRevenue({ EUR: '60.0000', JPY: '1200.0000', BHD: '1.2500' })).toBe('60.00 EUR + 1,200 JPY + 1.250 BHD')
    expect(fmtRevenue({ EUR: '1234567.00', JPY: '1000' })).toBe('1,234,567.00 EUR + 1,000 JPY')
    expect(fmtRevenue({})).toBe('–')
  })
})

describe('click map images', () => {
  it('stand as sized placeholders: nothing points at the sender\'s image hosts, width, height and alt kept', () => {
    const compiled = compileTemplate({
      html: '<body><a href="https://shop.example/"><img src="https://img.example/hero.png" width="600" height="200" alt="Hero"></a><img src=\'//cdn.example/b.png\' alt="b"><img src=http://x.example/c.gif><img src="data:image/gif;base64,R0lGOD"></body>',
    })
    const html = clickMapHtml(compiled, [{ position: 1, url: 'https://shop.example/', label: 'Hero', clicks: 3, uniqueClickers: 2 }])
    expect(html).not.toMatch(/img\.example|cdn\.example|x\.example/)
    expect(html.match(/src="data:image\/svg\+xml,/g)).toHaveLength(3)
    expect(html).toContain('width="600" height="200" alt="Hero"')
    // Data images and the blank open pixel are the e-mail's own bytes: kept.
    expect(html).toContain('src="data:image/gif;base64,R0lGOD"')
  })
})
