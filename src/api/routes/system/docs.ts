import type { OpenAPIHono } from '@hono/zod-openapi'
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import type { AppEnv } from '../../context.js'

type Schema = {
  $ref?: string
  type?: string | string[]
  enum?: unknown[]
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  description?: string
  example?: unknown
  default?: unknown
  format?: string
  additionalProperties?: boolean | Schema
}

interface Parameter {
  name: string
  in: string
  required?: boolean
  description?: string
  example?: unknown
  schema?: Schema
}

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  description?: string
  security?: unknown[]
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema; example?: unknown }> }>
}

interface Document {
  info?: { title?: string; description?: string }
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
}

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

/** Nothing from elsewhere and no script: the page is the document, readable offline. Stricter than the dashboard's policy. */
export const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/**
 * The Markdown the descriptions use (code spans, bold, links, paragraphs, lists), rendered from
 * escaped text so nothing in a description can become markup; links only to http(s) or this site.
 */
export function markdown(src: string): string {
  const inline = (s: string) =>
    escape(s)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/\[([^\]]+)\]\(((?:https?:\/\/|\/|#)[^\s)]*)\)/g, '<a href="$2">$1</a>')
  return src
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n')
      if (lines.every((l) => /^\s*[-*] /.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ''))}</li>`).join('')}</ul>`
      return `<p>${inline(block)}</p>`
    })
    .join('')
}

function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1)
}

function resolveSchema(doc: Document, s: Schema | undefined): Schema | undefined {
  let cur = s
  for (let i = 0; cur?.$ref && i < 10; i++) cur = doc.components?.schemas?.[refName(cur.$ref)]
  return cur
}

/** A schema as a short type: `string`, `integer | null`, `"human" | "machine"`, `Campaign[]`. */
function typeOf(s: Schema | undefined): string {
  if (!s) return 'any'
  if (s.$ref) return refName(s.$ref)
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  const alts = s.anyOf ?? s.oneOf
  if (alts) return alts.map(typeOf).join(' | ')
  if (s.allOf) return s.allOf.map(typeOf).join(' & ')
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  return (
    types
      .map((t) => (t === 'array' ? `${typeOf(s.items)}[]` : t === 'object' && s.properties ? 'object' : t === 'string' && s.format ? `string (${s.format})` : t))
      .join(' | ') || 'any'
  )
}

/** An example for a schema: its own, else one built from its properties' examples (two levels of references at most). */
function exampleOf(doc: Document, s: Schema | undefined, depth = 0): unknown {
  const r = resolveSchema(doc, s)
  if (!r || depth > 4) return undefined
  if (r.example !== undefined) return r.example
  if (s?.example !== undefined) return s.example
  if (r.properties) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(r.properties)) {
      const e = exampleOf(doc, v, depth + 1)
      if (e !== undefined) out[k] = e
    }
    return Object.keys(out).length ? out : undefined
  }
  if (r.items) {
    const e = exampleOf(doc, r.items, depth + 1)
    return e === undefined ? undefined : [e]
  }
  return r.default ?? r.enum?.[0]
}

const exampleCell = (e: unknown): Html => (e === undefined ? html`` : html`<code>${typeof e === 'string' ? e : JSON.stringify(e)}</code>`)

/** The fields of an object body, nested objects one level indented by their dotted names. */
function fieldRows(doc: Document, s: Schema | undefined, prefix = '', depth = 0): Html[] {
  const r = resolveSchema(doc, s)
  if (!r?.properties || depth > 2) return []
  return Object.entries(r.properties).flatMap(([name, prop]) => {
    const resolved = resolveSchema(doc, prop)
    const description = prop.description ?? resolved?.description ?? ''
    const row = html`<tr>
      <td><code>${prefix + name}</code></td>
      <td>${typeOf(prop)}</td>
      <td>${r.required?.includes(name) ? 'yes' : ''}</td>
      <td>${raw(markdown(description))}</td>
      <td>${exampleCell(prop.example ?? (resolved?.properties ? undefined : resolved?.example))}</td>
    </tr>`
    return [row, ...fieldRows(doc, prop, `${prefix}${name}.`, depth + 1)]
  })
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')

function operationSection(doc: Document, method: string, path: string, op: Operation): Html {
  const id = `op-${slug(op.operationId ?? `${method}-${path}`)}`
  const params = (op.parameters ?? []).map(
    (p) => html`<tr>
      <td><code>${p.name}</code></td>
      <td>${p.in}</td>
      <td>${typeOf(p.schema)}</td>
      <td>${p.required ? 'yes' : ''}</td>
      <td>${raw(markdown(p.description ?? p.schema?.description ?? ''))}</td>
      <td>${exampleCell(p.example ?? p.schema?.example)}</td>
    </tr>`,
  )
  const bodySchema = op.requestBody?.content?.['application/json']?.schema
  const bodyExample = exampleOf(doc, bodySchema)
  const responses = Object.entries(op.responses ?? {}).map(([status, r]) => {
    const [type, media] = Object.entries(r.content ?? {})[0] ?? []
    const example = media ? (media.example ?? exampleOf(doc, media.schema)) : undefined
    return html`<li>
      <code>${status}</code> ${r.description ?? ''}${type ? html` <small>(${type})</small>` : ''}
      ${example !== undefined && /^2/.test(status) ? html`<pre>${typeof example === 'string' ? example : JSON.stringify(example, null, 2)}</pre>` : ''}
    </li>`
  })
  return html`<section id="${id}">
    <h3><a href="#${id}"><code>${method.toUpperCase()} ${path}</code></a></h3>
    <p><strong>${op.summary ?? ''}</strong>${op.security && op.security.length === 0 ? html` <small>(public, no key)</small>` : ''}</p>
    ${op.description ? raw(markdown(op.description)) : ''}
    ${params.length
      ? html`<h4>Parameters</h4>
          <div class="scroll"><table><thead><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th><th>example</th></tr></thead><tbody>${params}</tbody></table></div>`
      : ''}
    ${bodySchema
      ? html`<h4>Request body <small>(application/json)</small></h4>
          <div class="scroll"><table><thead><tr><th>field</th><th>type</th><th>required</th><th>description</th><th>example</th></tr></thead><tbody>${fieldRows(doc, bodySchema)}</tbody></table></div>
          ${bodyExample !== undefined ? html`<pre>${JSON.stringify(bodyExample, null, 2)}</pre>` : ''}`
      : ''}
    <h4>Responses</h4>
    <ul>${responses}</ul>
  </section>`
}

const STYLE =
  'body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}' +
  'pre{background:#f4f4f4;padding:.75rem;overflow:auto;font-size:13px}section{border-top:1px solid #ddd;padding-top:.5rem;margin-top:1.5rem}' +
  'table{border-collapse:collapse;width:100%;font-size:14px}th,td{border-bottom:1px solid #e4e4e4;padding:.3rem .5rem;text-align:left;vertical-align:top}' +
  'td p{margin:0}.scroll{overflow-x:auto}nav.toc ul{columns:2 20rem}h3 a{color:inherit;text-decoration:none}code{font-size:13px}'

/**
 * The reference page, rendered on the server from the OpenAPI document: a table of contents by
 * tag with an anchor per operation, each parameter with its description and example, request
 * bodies as fields, response examples, Markdown in descriptions. No script, no CDN: works offline.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>, document: () => Document) {
  let page: string | null = null
  app.get('/docs', async (c) => {
    if (page === null) {
      const doc = document()
      const byTag = new Map<string, Array<{ method: string; path: string; op: Operation }>>()
      for (const [path, ops] of Object.entries(doc.paths ?? {})) {
        for (const [method, op] of Object.entries(ops)) {
          const tag = op.tags?.[0] ?? 'other'
          if (!byTag.has(tag)) byTag.set(tag, [])
          byTag.get(tag)!.push({ method, path, op })
        }
      }
      const toc = [...byTag].map(
        ([tag, ops]) => html`<li><a href="#tag-${slug(tag)}">${tag}</a><ul>${ops.map(
          ({ method, path, op }) => html`<li><a href="#op-${slug(op.operationId ?? `${method}-${path}`)}"><code>${method.toUpperCase()} ${path}</code></a> ${op.summary ?? ''}</li>`,
        )}</ul></li>`,
      )
      const sections = [...byTag].map(([tag, ops]) => html`<h2 id="tag-${slug(tag)}">${tag}</h2>${ops.map(({ method, path, op }) => operationSection(doc, method, path, op))}`)
      page = String(await html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>sillage API</title>
            <style>${raw(STYLE)}</style>
          </head>
          <body>
            <h1>sillage API</h1>
            ${raw(markdown(doc.info?.description ?? ''))}
            <p>Machine-readable document: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>. Errors are <code>{"error": {"code", "message", "requestId", "details?"}}</code>.</p>
            <nav class="toc" aria-label="Contents"><h2>Contents</h2><ul>${toc}</ul></nav>
            ${sections}
          </body>
        </html>`)
    }
    return c.html(page, 200, { 'content-security-policy': DOCS_CSP })
  })
}
