import { describe, expect, it } from 'vitest'
import { compileTemplate, renderCompiled } from '../../src/rewrite/index.js'
import { roundTrip, track } from './helpers.js'

describe('href rewriting in HTML', () => {
  it('rewrites a double-quoted href and nothing else', () => {
    const src = '<p>Hi <a class="x" href="https://example.com/a">Go</a> there</p>'
    expect(track(src).html).toBe('<p>Hi <a class="x" href="https://t.test/1">Go</a> there</p>')
  })

  it('keeps single quotes, and quotes an unquoted href with double quotes', () => {
    const src = "<a href='https://a.test/'>A</a><a href=https://b.test/x?y=1 title=b>B</a>"
    expect(track(src).html).toBe('<a href=\'https://t.test/1\'>A</a><a href="https://t.test/2" title=b>B</a>')
  })

  it('handles uppercase tags and attributes and whitespace around =', () => {
    const src = '<A\n  HREF =\t"https://a.test/" >One</A><AREA HREF\n=\nhttps://b.test/ ALT="Two">'
    const { html, compiled } = track(src)
    expect(html).toBe('<A\n  HREF =\t"https://t.test/1" >One</A><AREA HREF\n=\n"https://t.test/2" ALT="Two">')
    expect(compiled.links.map((l) => [l.position, l.url, l.label])).toEqual([
      [1, 'https://a.test/', 'One'],
      [2, 'https://b.test/', 'Two'],
    ])
  })

  it('registers the decoded URL and encodes the tracked URL for its attribute', () => {
    const src = '<a href="https://a.test/?x=1&amp;y=2&#38;z=3">A</a><a href=\'https://b.test/\'>B</a>'
    const { compiled } = track(src)
    expect(compiled.links[0]).toMatchObject({ url: 'https://a.test/?x=1&y=2&z=3', raw: 'https://a.test/?x=1&amp;y=2&#38;z=3' })
    const out = renderCompiled(compiled, { linkUrl: (p) => `https://t.test/${p}?a=1&b="it's"` })
    expect(out.html).toBe(
      '<a href="https://t.test/1?a=1&amp;b=&quot;it\'s&quot;">A</a>' +
        '<a href=\'https://t.test/2?a=1&amp;b="it&#39;s"\'>B</a>',
    )
  })

  it('decodes broken entities leniently, as browsers do in attributes', () => {
    const src = '<a href="https://a.test/?a=1&ampb=2&copy=3&#xZZ;&amp">A</a>'
    const { compiled } = track(src)
    // In attributes a legacy entity followed by an alphanumeric or `=` stays literal.
    expect(compiled.links[0]!.url).toBe('https://a.test/?a=1&ampb=2&copy=3&#xZZ;&')
  })

  it('does not touch attributes merely named like href', () => {
    const src = '<a data-href="https://x.test/" xhref="https://y.test/" href="https://z.test/">Z</a><div href="https://w.test/">w</div>'
    const { html, compiled } = track(src)
    expect(html).toBe('<a data-href="https://x.test/" xhref="https://y.test/" href="https://t.test/1">Z</a><div href="https://w.test/">w</div>')
    expect(compiled.links).toHaveLength(1)
  })

  it('rewrites only the first of duplicated href attributes, the one browsers use', () => {
    const { html } = track('<a href="https://a.test/" href="https://b.test/">A</a>')
    expect(html).toBe('<a href="https://t.test/1" href="https://b.test/">A</a>')
  })

  it('counts every occurrence as its own link', () => {
    const { compiled } = track('<a href="https://a.test/">1</a><a href="https://a.test/">2</a>')
    expect(compiled.links.map((l) => [l.position, l.url, l.label])).toEqual([
      [1, 'https://a.test/', '1'],
      [2, 'https://a.test/', '2'],
    ])
  })

  it('rewrites hrefs inside Outlook conditional comments, in document order', () => {
    const src =
      '<a href="https://first.test/">F</a>' +
      '<!--[if mso]>\n<v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" href="https://btn.test/?a=1&amp;b=2" style="height:40px" arcsize="10%">' +
      '<w:anchorlock/><center>Get   started</center></v:roundrect>\n<![endif]-->' +
      '<!--[if !mso]><!--><a href="https://btn.test/?a=1&amp;b=2">Get started</a><!--<![endif]-->' +
      '<!-- a plain comment: <a href="https://not.test/">no</a> -->'
    const { html, compiled } = track(src)
    expect(html).toBe(
      '<a href="https://t.test/1">F</a>' +
        '<!--[if mso]>\n<v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" href="https://t.test/2" style="height:40px" arcsize="10%">' +
        '<w:anchorlock/><center>Get   started</center></v:roundrect>\n<![endif]-->' +
        '<!--[if !mso]><!--><a href="https://t.test/3">Get started</a><!--<![endif]-->' +
        '<!-- a plain comment: <a href="https://not.test/">no</a> -->',
    )
    expect(compiled.links.map((l) => [l.position, l.url, l.label])).toEqual([
      [1, 'https://first.test/', 'F'],
      [2, 'https://btn.test/?a=1&b=2', 'Get started'],
      [3, 'https://btn.test/?a=1&b=2', 'Get started'],
    ])
  })

  it('does not rewrite link-like text in script, style, CDATA or textarea', () => {
    // Their content is not markup for a browser or a mail client, so it is left as written.
    const src =
      '<script>document.write(\'<a href="https://s.test/">x</a>\')</script>' +
      '<style>/* <a href="https://c.test/"> */</style>' +
      '<![CDATA[<a href="https://cd.test/">cdata</a>]]>' +
      '<textarea><a href="https://t.test/">t</a></textarea>' +
      '<a href="https://real.test/">real</a>'
    const { html, compiled } = track(src)
    expect(compiled.links.map((l) => l.url)).toEqual(['https://real.test/'])
    expect(html).toBe(src.replace('https://real.test/', 'https://t.test/1'))
  })
})

describe('labels', () => {
  it('prefers data-label, then text, then image alt', () => {
    const src =
      '<a href="https://a.test/" data-label="Hero &amp; CTA">Text</a>' +
      '<a href="https://b.test/">  Some\n\t<b>bold</b>   <i>text</i> </a>' +
      '<a href="https://c.test/"><img src="x.png" alt="Logo &quot;Co&quot;"></a>' +
      '<a href="https://d.test/"><img src="x.png"></a>' +
      '<a href="https://e.test/"><table><tr><td>Cell</td><td>Two</td></tr></table></a>'
    const { compiled } = track(src)
    expect(compiled.links.map((l) => l.label)).toEqual(['Hero & CTA', 'Some bold text', 'Logo "Co"', '', 'Cell Two'])
  })

  it('truncates long labels to 200 characters', () => {
    const { compiled } = track(`<a href="https://a.test/">${'word '.repeat(100)}</a>`)
    expect(compiled.links[0]!.label.length).toBeLessThanOrEqual(200)
    expect(compiled.links[0]!.label.startsWith('word word')).toBe(true)
  })

  it('ends a label at the next anchor when an anchor is not closed', () => {
    const { compiled } = track('<a href="https://a.test/">One<a href="https://b.test/">Two</a>')
    expect(compiled.links.map((l) => l.label)).toEqual(['One', 'Two'])
  })
})

describe('skipped hrefs', () => {
  it('lists every skipped scheme with its reason and leaves the bytes alone', () => {
    const hrefs: [string, string][] = [
      ['mailto:a@b.test', 'mailto'],
      ['MAILTO:a@b.test', 'mailto'],
      ['tel:+3312345678', 'tel'],
      ['sms:+3312345678', 'sms'],
      ['#top', 'fragment'],
      ['javascript:alert(1)', 'javascript'],
      ['java&#9;script:alert(1)', 'javascript'],
      ['data:text/html,hi', 'data'],
      ['', 'empty'],
      ['   ', 'empty'],
      ['ftp://files.test/x', 'unsupported_scheme'],
      ['webcal://cal.test/x', 'unsupported_scheme'],
      ['/relative/path', 'relative'],
      ['page.html', 'relative'],
      ['http://', 'invalid_url'],
      ['https://exa mple.test/', 'invalid_url'],
    ]
    const src = hrefs.map(([h]) => `<a href="${h}">x</a>`).join('') + '<a href>no value</a>'
    const { html, compiled } = track(src)
    expect(html).toBe(src)
    expect(compiled.links).toEqual([])
    expect(compiled.skipped.map((s) => s.reason)).toEqual([...hrefs.map(([, r]) => r), 'empty'])
    expect(compiled.skipped[6]!.href).toBe('java\tscript:alert(1)')
  })

  it('skips merge tags of each template language', () => {
    const tags = [
      '{{action_url}}',
      '{{{ unsubscribe }}}',
      'https://a.test/?u={{ user.id }}',
      "{% url 'home' %}",
      '{% url ', // what the tokenizer sees of href="{% url "home" %}"
      '*|UNSUB|*',
      'https://a.test/*|EMAIL|*',
      '%%view_email_url%%',
      '%%=RedirectTo(@url)=%%',
    ]
    const src = tags.map((t) => `<a href="${t}">x</a>`).join('')
    const { html, compiled } = track(src)
    expect(html).toBe(src)
    expect(compiled.links).toEqual([])
    expect(compiled.skipped.map((s) => [s.href, s.reason])).toEqual(tags.map((t) => [t, 'merge_tag']))
  })

  it('treats [brackets] as merge tags only when asked, and never an IPv6 host', () => {
    const src = '<a href="[unsubscribe]">u</a><a href="https://a.test/[FNAME]">f</a><a href="http://[::1]:8080/x">v6</a>'
    expect(track(src).compiled.skipped.map((s) => s.reason)).toEqual(['relative'])
    const on = track(src, { bracketMergeTags: true }).compiled
    expect(on.skipped.map((s) => s.reason)).toEqual(['merge_tag', 'merge_tag'])
    expect(on.links.map((l) => l.url)).toEqual(['http://[::1]:8080/x'])
  })

  it('honours the opt-out attribute, configurable', () => {
    const src = '<a href="https://a.test/" data-sillage="off">a</a><a href="https://b.test/" DATA-SILLAGE=OFF>b</a><a href="https://c.test/" no-track="off">c</a>'
    const def = track(src).compiled
    expect(def.skipped.map((s) => [s.href, s.reason])).toEqual([
      ['https://a.test/', 'opt_out'],
      ['https://b.test/', 'opt_out'],
    ])
    expect(def.links.map((l) => l.url)).toEqual(['https://c.test/'])
    const custom = track(src, { optOutAttribute: 'no-track' }).compiled
    expect(custom.links.map((l) => l.url)).toEqual(['https://a.test/', 'https://b.test/'])
  })

  it('accepts a template with no trackable link', () => {
    const c = compileTemplate({ html: '<p>Nothing to track <a href="mailto:x@y.test">mail</a></p>' })
    expect(c.links).toEqual([])
    expect(roundTrip(compileTemplate({ html: '<p>x</p>', options: { pixel: false } })).html).toBe('<p>x</p>')
  })
})
