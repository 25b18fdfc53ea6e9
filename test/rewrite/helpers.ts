import { compileTemplate, renderCompiled, type CompileOptions, type CompiledTemplate } from '../../src/rewrite/index.js'

/** Compiles with no pixel and renders link N as `https://t.test/N`. */
export function track(html: string, options: CompileOptions = {}): { html: string; compiled: CompiledTemplate } {
  const compiled = compileTemplate({ html, options: { pixel: false, ...options } })
  const out = renderCompiled(compiled, {
    linkUrl: (p) => `https://t.test/${p}`,
    pixelUrl: 'https://t.test/o.gif',
    honeypotUrl: 'https://t.test/h',
  })
  return { html: out.html, compiled }
}

/** Renders every link with its source bytes, verbatim: must give the input back. */
export function roundTrip(compiled: CompiledTemplate): { html: string; text: string | null } {
  const raw = new Map(compiled.links.map((l) => [l.position, l.raw]))
  return renderCompiled(compiled, { linkUrl: (p) => raw.get(p)!, verbatim: true })
}
