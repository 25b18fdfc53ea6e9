import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { classify } from '../../src/tracking/classify.js'
import { type CorpusEntry, evaluate } from '../../src/tracking/classify/evaluate.js'

const corpus = JSON.parse(readFileSync(new URL('../fixtures/classify/corpus.json', import.meta.url), 'utf8')) as CorpusEntry[]

describe('labelled corpus', () => {
  it('is large, sourced and covers both classes', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300)
    expect(corpus.every((e) => e.source.length > 0)).toBe(true)
    expect(corpus.filter((e) => e.expected === 'human').length).toBeGreaterThanOrEqual(150)
    for (const cls of ['machine_open', 'scanner_click', 'crawler'] as const) expect(corpus.some((e) => e.expected === cls)).toBe(true)
  })

  const r = evaluate(corpus, classify)

  it('classes at most 1% of real browsers and mail clients as machines', () => {
    const fm = r.misses.filter((m) => m.entry.expected === 'human').map((m) => m.entry.ua)
    expect(fm).toEqual([])
    expect(r.falseMachine.of).toBeGreaterThanOrEqual(150)
    expect(r.falseMachine.rate).toBeLessThanOrEqual(0.01)
  })

  it('catches every named signature with its reason', () => {
    const named = new Set(corpus.flatMap((e) => (e.signature ? [e.signature] : [])))
    for (const s of ['Apple MPP bare UA', 'GoogleImageProxy', 'YahooMailProxy', 'Gmail prefetch', 'Slackbot', 'facebookexternalhit',
      'Twitterbot', 'WhatsApp', 'TelegramBot', 'Discordbot', 'LinkedInBot', 'SkypeUriPreview', 'MicrosoftPreview', 'Barracuda Sentinel',
      'Mimecast', 'Proofpoint', 'HEAD request', 'Sec-Purpose prefetch', 'Purpose prefetch', 'X-Moz prefetch', 'Mimecast referer',
      'Teams referer', 'Apple MPP egress v4', 'Apple MPP egress v6', 'Microsoft EOP address v4', 'Microsoft EOP address v6']) {
      expect(named, s).toContain(s)
    }
    expect(r.missedSignatures.map((m) => `${m.entry.signature} → ${m.got.class}/${m.got.reasons.join('+')}`)).toEqual([])
  })

  it('keeps crawler recall and machine precision high', () => {
    expect(r.perClass.crawler.recall).toBeGreaterThan(0.98)
    expect(r.perClass.machine_open.precision).toBeGreaterThan(0.99)
    expect(r.perClass.scanner_click.precision).toBeGreaterThan(0.99)
    expect(r.missedMachine.rate).toBeLessThan(0.02)
  })
})
