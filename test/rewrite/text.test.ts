import { describe, expect, it } from 'vitest'
import { compileTemplate, renderCompiled } from '../../src/rewrite/index.js'
import { roundTrip } from './helpers.js'

function compileText(text: string, html = '<p>x</p>') {
  const compiled = compileTemplate({ html, text, options: { pixel: false } })
  const out = renderCompiled(compiled, { linkUrl: (p) => `https://t.test/${p}?a&b` })
  return { compiled, text: out.text }
}

describe('plain-text part', () => {
  it('rewrites each URL occurrence, positions continuing after the HTML links', () => {
    const { compiled, text } = compileText(
      'Start: https://a.test/x?y=1&z=2\nAgain https://a.test/x?y=1&z=2 done',
      '<a href="https://h.test/">H</a>',
    )
    expect(text).toBe('Start: https://t.test/2?a&b\nAgain https://t.test/3?a&b done')
    expect(compiled.links.map((l) => [l.position, l.url, l.part])).toEqual([
      [1, 'https://h.test/', 'html'],
      [2, 'https://a.test/x?y=1&z=2', 'text'],
      [3, 'https://a.test/x?y=1&z=2', 'text'],
    ])
  })

  it('leaves trailing punctuation out, keeping balanced parentheses', () => {
    const cases: [string, string][] = [
      ['Go to https://a.test/page.', 'https://a.test/page'],
      ['Is it https://a.test/?q=1?', 'https://a.test/?q=1'],
      ['(see https://a.test/x)', 'https://a.test/x'],
      ['see https://en.wiki.test/A_(b)!', 'https://en.wiki.test/A_(b)'],
      ['(https://en.wiki.test/A_(b)).', 'https://en.wiki.test/A_(b)'],
      ['<https://a.test/angle>', 'https://a.test/angle'],
      ['"https://a.test/q"', 'https://a.test/q'],
      ['HTTPS://A.TEST/UP;', 'HTTPS://A.TEST/UP'],
      ['list: https://a.test/1, https://a.test/2;', 'https://a.test/1'],
    ]
    for (const [input, url] of cases) {
      expect(compileText(input).compiled.links[0]?.url, input).toBe(url)
    }
    expect(compileText('(see https://a.test/x)').text).toBe('(see https://t.test/1?a&b)')
  })

  it('skips merge tags in text URLs, even with spaces inside the tag', () => {
    const { compiled, text } = compileText('Hi https://a.test/?u={{ user.id }} and https://b.test/*|ID|* and https://c.test/ok')
    expect(compiled.skipped.map((s) => [s.href, s.reason, s.part])).toEqual([
      ['https://a.test/?u={{ user.id }}', 'merge_tag', 'text'],
      ['https://b.test/*|ID|*', 'merge_tag', 'text'],
    ])
    expect(text).toBe('Hi https://a.test/?u={{ user.id }} and https://b.test/*|ID|* and https://t.test/1?a&b')
  })

  it('ignores non-http schemes and bare scheme prefixes', () => {
    const { compiled } = compileText('mailto:a@b.test ftp://x.test/ https:// and http://.')
    expect(compiled.links).toEqual([])
  })

  it('returns null text when no text part was given, and round-trips text', () => {
    const noText = compileTemplate({ html: '<p>x</p>', options: { pixel: false } })
    expect(renderCompiled(noText, { linkUrl: () => '' }).text).toBeNull()
    const text = 'A https://a.test/(x) B https://b.test/?q={{ id }}.\r\n'
    expect(roundTrip(compileTemplate({ html: '<p>x</p>', text, options: { pixel: false } })).text).toBe(text)
  })
})
