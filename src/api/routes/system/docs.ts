import type { OpenAPIHono } from '@hono/zod-openapi'
import { html, raw } from 'hono/html'
import type { AppEnv } from '../../context.js'

interface Operation {
  summary?: string
  description?: string
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>
  requestBody?: { content?: Record<string, { schema?: unknown }> }
  responses?: Record<string, { description?: string }>
}

/** A self-contained reference page rendered from the OpenAPI document: no CDN, works offline. */
export function registerDocs(app: OpenAPIHono<AppEnv>, document: () => { paths?: Record<string, Record<string, Operation>> }) {
  app.get('/docs', (c) => {
    const doc = document()
    const sections = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const params = (op.parameters ?? []).map((p) => html`<li><code>${p.name}</code> (${p.in}${p.required ? ', required' : ''})</li>`)
        const body = op.requestBody?.content?.['application/json']?.schema
        const responses = Object.entries(op.responses ?? {}).map(([s, r]) => html`<li><code>${s}</code> ${r.description ?? ''}</li>`)
        return html`<section>
          <h2><code>${method.toUpperCase()} ${path}</code></h2>
          <p>${op.summary ?? ''}</p>
          ${op.description ? html`<p>${op.description}</p>` : ''}
          ${params.length ? html`<h3>Parameters</h3><ul>${params}</ul>` : ''}
          ${body ? html`<h3>Body</h3><pre>${JSON.stringify(body, null, 2)}</pre>` : ''}
          <h3>Responses</h3><ul>${responses}</ul>
        </section>`
      }),
    )
    return c.html(html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>sillage API</title>
          <style>
            ${raw('body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}pre{background:#f4f4f4;padding:.75rem;overflow:auto}section{border-top:1px solid #ddd;padding-top:.5rem}')}
          </style>
        </head>
        <body>
          <h1>sillage API</h1>
          <p>Machine-readable document: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>
          ${sections}
        </body>
      </html>`)
  })
}
