import { readFileSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { compileTemplate, renderCompiled } from '../../src/rewrite/index.js'
import { roundTrip } from './helpers.js'

// Postmark's MIT-licensed templates (see LICENSE beside them), copied into the repo so CI has them.
const dir = new URL('../fixtures/emails/postmark/', import.meta.url)
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.html'))
  .map((name) => ({ name, html: readFileSync(new URL(name, dir), 'utf8') }))

/** The template as a sender would submit it once their own merge tags are resolved. */
function resolved(html: string): string {
  return html.replace(/\{\{(\w+)\}\}/g, (_, name: string) => `https://example.com/${name}?utm_source=x&amp;id=1`)
}

describe('Postmark templates', () => {
  it('are all present', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual([
      'comment-notification.html',
      'receipt.html',
      'trial-expiring.html',
      'user-invitation.html',
      'welcome.html',
    ])
  })

  for (const { name, html } of fixtures) {
    describe(name, () => {
      it('gives the input back byte for byte when the rewrites are undone', () => {
        for (const src of [html, resolved(html)]) {
          const c = compileTemplate({ html: src, text: src, options: { pixel: false } })
          expect(c.links.length).toBeGreaterThan(0)
          const back = roundTrip(c)
          expect(back.html).toBe(src)
          expect(back.text).toBe(src)
        }
      })

      it('skips the merge-tag hrefs and tracks the literal ones', () => {
        const c = compileTemplate({ html })
        expect(c.links[0]).toMatchObject({ position: 1, url: 'https://example.com', label: '[Product Name]' })
        expect(c.skipped.length).toBeGreaterThan(0)
        for (const s of c.skipped) expect(['merge_tag', 'mailto']).toContain(s.reason)
      })

      it('tracks every link once merge tags are resolved, changing only hrefs and adding the pixel', () => {
        const src = resolved(html)
        const c = compileTemplate({ html: src })
        expect(c.skipped.every((s) => s.reason === 'mailto')).toBe(true)
        for (const l of c.links) expect(l.url).toMatch(/^https?:\/\/example\.com/)
        expect(c.links.filter((l) => l.url.includes('&amp;'))).toEqual([])

        const out = renderCompiled(c, { linkUrl: (p) => `https://t.test/c/${p}`, pixelUrl: 'https://t.test/o.gif' }).html
        // Undo our changes with plain string operations and compare to the source.
        let expected = src
        for (const l of c.links) expected = expected.replace(`href="${l.raw}"`, `href="\u0001${l.position}\u0001"`)
        expected = expected.replace(/\u0001(\d+)\u0001/g, (_, p: string) => `https://t.test/c/${p}`)
        const bodyEnd = expected.lastIndexOf('</body>')
        expected = expected.slice(0, bodyEnd) + out.slice(bodyEnd, out.indexOf('</body>', bodyEnd)) + expected.slice(bodyEnd)
        expect(out).toBe(expected)
        expect(out.slice(bodyEnd)).toMatch(/^<img src="https:\/\/t\.test\/o\.gif" [^>]*\/><\/body>/)
      })
    })
  }

  it('finds the real labels of resolved Postmark links', () => {
    const welcome = fixtures.find((f) => f.name === 'welcome.html')!
    const c = compileTemplate({ html: resolved(welcome.html) })
    expect(c.links.map((l) => [l.url.replace(/\?.*/, ''), l.label])).toEqual(
      expect.arrayContaining([
        ['https://example.com/action_url', 'Do this Next'],
        ['https://example.com/live_chat_url', 'live chat'],
        ['https://example.com/help_url', 'help documentation'],
      ]),
    )
  })
})
