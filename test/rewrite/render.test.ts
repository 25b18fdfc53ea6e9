import { describe, expect, it } from 'vitest'
import { RewriteError, compileTemplate, renderCompiled, renderTrackedTemplate } from '../../src/rewrite/index.js'

const PIXEL = '<img src="https://t.test/o.gif?r=1&amp;c=2" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />'
const urls = { linkUrl: (p: number) => `https://t.test/${p}`, pixelUrl: 'https://t.test/o.gif?r=1&c=2', honeypotUrl: 'https://t.test/h' }

describe('open pixel', () => {
  it('goes before the last top-level </body>, whatever its case', () => {
    const src = '<html><BODY><p>x</p><!-- </body> --></body><!--[if mso]></body><![endif]--></BoDy ></html>'
    const out = renderCompiled(compileTemplate({ html: src }), urls).html
    expect(out).toBe(`<html><BODY><p>x</p><!-- </body> --></body><!--[if mso]></body><![endif]-->${PIXEL}</BoDy ></html>`)
  })

  it('ignores </body> inside comments and script', () => {
    const src = '<body><p>x</p></body><!-- </body> --><script>"</body>"</script>'
    const out = renderCompiled(compileTemplate({ html: src }), urls).html
    expect(out).toBe(`<body><p>x</p>${PIXEL}</body><!-- </body> --><script>"</body>"</script>`)
  })

  it('goes at the end without </body>, and is left out when pixel is false', () => {
    expect(renderCompiled(compileTemplate({ html: '<p>x</p>' }), urls).html).toBe(`<p>x</p>${PIXEL}`)
    const none = compileTemplate({ html: '<p>x</p>', options: { pixel: false } })
    expect(none.pixel).toBe(false)
    expect(renderCompiled(none, { linkUrl: () => '' }).html).toBe('<p>x</p>')
  })

  it('is required at render time when compiled in', () => {
    const c = compileTemplate({ html: '<p>x</p>' })
    expect(() => renderCompiled(c, { linkUrl: () => '' })).toThrow(expect.objectContaining({ code: 'missing_pixel_url' }))
  })
})

describe('honeypot', () => {
  it('goes just after the <body> tag and is reported separately', () => {
    const c = compileTemplate({
      html: '<html><body class="a">\n<a href="https://a.test/">A</a></body></html>',
      options: { honeypot: true, pixel: false },
    })
    expect(c.honeypot).toBe(true)
    expect(c.links.map((l) => l.url)).toEqual(['https://a.test/'])
    expect(renderCompiled(c, urls).html).toBe(
      '<html><body class="a"><a href="https://t.test/h" style="display:none" aria-hidden="true" tabindex="-1"></a>\n' +
        '<a href="https://t.test/1">A</a></body></html>',
    )
    expect(() => renderCompiled(c, { linkUrl: () => '' })).toThrow(expect.objectContaining({ code: 'missing_honeypot_url' }))
  })

  it('goes at the start without a <body> tag', () => {
    const c = compileTemplate({ html: '<p>x</p>', options: { honeypot: true, pixel: false } })
    expect(renderCompiled(c, urls).html.startsWith('<a href="https://t.test/h"')).toBe(true)
  })
})

describe('compiled form', () => {
  it('is plain JSON data of literals and holes', () => {
    const c = compileTemplate({ html: '<body><a href=\'https://a.test/\'>A</a></body>', text: 'see https://b.test/' })
    expect(c.html).toEqual([
      "<body><a href='",
      { kind: 'link', position: 1, encoding: 'attr-single' },
      "'>A</a><img src=\"",
      { kind: 'pixel' },
      '" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" /></body>',
    ])
    expect(c.text).toEqual(['see ', { kind: 'link', position: 2, encoding: 'text' }])
    const revived = JSON.parse(JSON.stringify(c)) as typeof c
    expect(renderCompiled(revived, urls)).toEqual(renderCompiled(c, urls))
  })

  it('renders a tracked template for display with placeholders', () => {
    const c = compileTemplate({ html: '<body><a href="https://a.test/">A</a></body>', text: 'https://a.test/', options: { honeypot: true } })
    const shown = renderTrackedTemplate(c)
    expect(shown.html).toContain('<a href="{{sillage.link.1}}">A</a>')
    expect(shown.html).toContain('<img src="{{sillage.pixel}}"')
    expect(shown.html).toContain('href="{{sillage.honeypot}}"')
    expect(shown.text).toBe('{{sillage.link.2}}')
    // Placeholders read as merge tags: compiling the tracked template never tracks them twice.
    expect(compileTemplate({ html: shown.html }).links).toEqual([])
    expect(renderTrackedTemplate(c, { linkUrl: (p) => `#link-${p}` }).html).toContain('href="#link-1"')
  })
})

describe('bad input', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn()
    } catch (e) {
      expect(e).toBeInstanceOf(RewriteError)
      return (e as RewriteError).code
    }
    return undefined
  }

  it('rejects empty, binary and markup-free templates with a code and a message', () => {
    expect(code(() => compileTemplate({ html: '' }))).toBe('empty_template')
    expect(code(() => compileTemplate({ html: ' \n\t ' }))).toBe('empty_template')
    expect(code(() => compileTemplate({ html: '\u0000\u0001PNG\u0000' }))).toBe('not_html')
    expect(code(() => compileTemplate({ html: '<p>ok</p>\u0000' }))).toBe('not_html')
    expect(code(() => compileTemplate({ html: 'just words, no markup' }))).toBe('not_html')
    expect(code(() => compileTemplate({ html: '<p>x</p>', text: 'a\u0000b' }))).toBe('not_text')
    expect(code(() => compileTemplate({ html: 42 as unknown as string }))).toBe('invalid_input')
    expect(code(() => compileTemplate({ html: '<p>x</p>', options: { optOutAttribute: 'a b' } }))).toBe('invalid_option')
    expect(() => compileTemplate({ html: '' })).toThrow(/html is empty/)
  })

  it('does not crash on broken markup', () => {
    for (const html of ['<a href="https://a.test/', '<a href=', '<!--[if mso]><v:roundrect href="https://a.test/">', '<a href="https://a.test/">x', '<<a>>']) {
      const c = compileTemplate({ html, options: { pixel: false } })
      const raw = new Map(c.links.map((l) => [l.position, l.raw]))
      expect(renderCompiled(c, { linkUrl: (p) => raw.get(p)!, verbatim: true }).html).toBe(html)
    }
  })
})

describe('unsubscribe placeholder', () => {
  const UNSUB = 'https://t.test/u/c/tok?x=1&y=2'
  const src =
    '<body><a href="{{sillage.unsubscribe}}">Unsubscribe</a> <a href=\'{{sillage.unsubscribe}}\'>again</a> ' +
    '<a href={{sillage.unsubscribe}}>bare</a><p>or paste {{sillage.unsubscribe}}</p><a href="https://shop.test/">shop</a></body>'

  it('becomes the recipient unsubscribe URL wherever it is written, encoded for its place, and is no tracked link', () => {
    const c = compileTemplate({ html: src, text: 'Shop https://shop.test/\nUnsubscribe: {{sillage.unsubscribe}}\n', options: { pixel: false } })
    expect(c.unsubscribe).toBe(true)
    expect(c.links.map((l) => l.url)).toEqual(['https://shop.test/', 'https://shop.test/'])
    expect(c.skipped).toEqual([])
    const out = renderCompiled(c, { ...urls, unsubscribeUrl: UNSUB })
    const enc = 'https://t.test/u/c/tok?x=1&amp;y=2'
    expect(out.html).toBe(
      `<body><a href="${enc}">Unsubscribe</a> <a href='${enc}'>again</a> <a href=${enc}>bare</a><p>or paste ${enc}</p><a href="https://t.test/1">shop</a></body>`,
    )
    expect(out.text).toBe(`Shop https://t.test/2\nUnsubscribe: ${UNSUB}\n`)
    expect(renderTrackedTemplate(c).html).toContain('<a href="{{sillage.unsubscribe}}">Unsubscribe</a>')
  })

  it('is required at render time when written, and templates without it need none', () => {
    expect(() => renderCompiled(compileTemplate({ html: src }), urls)).toThrow(expect.objectContaining({ code: 'missing_unsubscribe_url' }))
    expect(compileTemplate({ html: '<p>x</p>' }).unsubscribe).toBe(false)
  })
})
