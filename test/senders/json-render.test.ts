import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compileTemplate } from '../../src/rewrite/index.js'
import { createJsonRenderer, createRenderer, type RenderableTemplate } from '../../src/sdk/render.js'
import { TokenCodec } from '../../src/tracking/token.js'

const codec = new TokenCodec(['a-secret-of-sixteen-chars-or-more'])
const FIXTURES = join(import.meta.dirname, '../fixtures/emails/postmark')

function renderable(html: string, text?: string, honeypot = false): RenderableTemplate {
  const compiled = compileTemplate({ html, text, options: { honeypot } })
  return { campaignId: 'c/1 é', compiled, links: compiled.links.map((l) => ({ id: `L${l.position}`, position: l.position })), honeypotLinkId: honeypot ? 'HP' : null }
}

const HARD = [
  '<a href=https://x.example/unquoted?a=1&b=2>u</a>\n<p title="a \\"quoted\\" \\\\ back">\t tab</p>',
  '<p>emoji 😀 and \u2028 line sep and \u0001 control</p><a href="https://x.example/😀">e</a>',
  "<a href='https://x.example/?q=\"'>single</a>",
  '<p>lone \ud800 surrogate</p><a href="https://x.example/">x</a>',
  '<a href="https://x.example/">no body, pixel at the end',
  '<a href="{{sillage.unsubscribe}}">Unsubscribe</a> or {{sillage.unsubscribe}} <a href={{sillage.unsubscribe}}>u</a>',
]

describe('JSON line renderer', () => {
  const options = { publicBaseUrl: 'https://t.example.com/', sign: (c: string, r: string) => codec.sign(c, r), unsubscribeMailto: 'u@x.example' }
  const templates = [
    ...readdirSync(FIXTURES).filter((f) => f.endsWith('.html')).map((f) => renderable(readFileSync(join(FIXTURES, f), 'utf8'), 'See https://x.example/a "quoted"\n', true)),
    ...HARD.map((h) => renderable(h, 'text \\ with "quotes" https://x.example/t\nUnsubscribe: {{sillage.unsubscribe}}\n')),
  ]

  it('gives exactly JSON.stringify of the SDK renderer, for every template and odd recipient ids', () => {
    for (const t of templates) {
      const plain = createRenderer(t, options)
      const json = createJsonRenderer(t, options)
      for (const id of ['alice', 'o"brien\\n', 'é😀', '']) {
        expect(json(id)).toBe(JSON.stringify(plain(id)))
        expect(json(id, { suppressed: { scope: '', reason: 'x' } })).toBe(JSON.stringify({ ...plain(id), suppressed: { scope: '', reason: 'x' } }))
      }
    }
  })

  it('falls back to JSON.stringify when the base URL would need escaping', () => {
    const t = templates[0]!
    const odd = { ...options, publicBaseUrl: 'https://t.example.com/a"b' }
    expect(createJsonRenderer(t, odd)('bob')).toBe(JSON.stringify(createRenderer(t, odd)('bob')))
  })
})
