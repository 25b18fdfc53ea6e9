import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { createConfig, lintFromString } from '@redocly/openapi-core'
import openapiTS from 'openapi-typescript'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DOCS_CSP } from '../../src/api/routes/system/docs.js'
import { createApp } from '../../src/app.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
}, 60_000)
afterAll(async () => {
  await s.stop()
})

describe('GET /openapi.json', () => {
  it('is generated once, on first use, and every request gets the same bytes', async () => {
    const app = createApp(s.deps)
    const generate = vi.spyOn(app, 'getOpenAPI31Document')
    expect(generate).not.toHaveBeenCalled()
    const first = await app.request('/openapi.json')
    const second = await app.request('/openapi.json')
    const docs = await app.request('/docs')
    expect(generate).toHaveBeenCalledTimes(1)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^application\/json/)
    const a = Buffer.from(await first.arrayBuffer())
    const b = Buffer.from(await second.arrayBuffer())
    expect(a.equals(b)).toBe(true)
    // Still the document of the app's routes: the same as one generated now.
    generate.mockRestore()
    const served = JSON.parse(a.toString('utf8'))
    expect(served).toEqual(JSON.parse(JSON.stringify(app.getOpenAPI31Document({ openapi: '3.1.0', info: served.info, servers: served.servers }))))
    expect(await docs.text()).toContain('POST /v1/campaigns/{id}/sends')
  })

  it('serves the cached document over HTTP, as valid JSON with every route', async () => {
    const r1 = await fetch(`${s.url}/openapi.json`)
    const r2 = await fetch(`${s.url}/openapi.json`)
    const t1 = await r1.text()
    expect(await r2.text()).toBe(t1)
    const doc = JSON.parse(t1)
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.paths).toHaveProperty(['/v1/api-keys/{id}'])
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' })
  })
})

describe('/docs', () => {
  it('is a contents table with an anchor per operation, parameters with description and example, bodies as fields, response examples, Markdown rendered; self-contained', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> }
    const res = await fetch(`${s.url}/docs`)
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP)
    const page = await res.text()
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        const anchor = 'op-' + op.operationId.replace(/[A-Z]/g, (c) => c.toLowerCase())
        expect(page, op.operationId).toContain(`id="${anchor}"`)
        expect(page, op.operationId).toContain(`href="#${anchor}"`)
      }
    }
    const stats = page.slice(page.indexOf('id="op-getcampaignstats"'), page.indexOf('</section>', page.indexOf('id="op-getcampaignstats"')))
    expect(stats).toMatch(/<td><code>from<\/code><\/td>\s*<td>query<\/td>\s*<td>string \(date-time\)<\/td>\s*<td><\/td>\s*<td><p>Only events at or after this instant \(ISO-8601\)[^<]*(?:<code>[^<]*<\/code>[^<]*)*<\/p><\/td>\s*<td><code>2026-11-23T00:00:00Z<\/code><\/td>/)
    const create = page.slice(page.indexOf('id="op-createcampaign"'), page.indexOf('</section>', page.indexOf('id="op-createcampaign"')))
    expect(create).toContain('<td><code>settings.domains</code></td>')
    expect(create).toContain('&quot;name&quot;: &quot;Spring sale 2026&quot;')
    // Markdown of a description: code spans become code, and nothing else becomes markup.
    expect(page).toContain('<code>opened=false</code>')
    // Offline and within the dashboard's policy: no script, nothing loaded from anywhere.
    expect(page).not.toMatch(/<script|<link|\ssrc=|@import|url\(/i)
  })
})

describe('the OpenAPI document for tools', () => {
  it('passes redocly\'s recommended rules with no error and no warning (security, servers, operationId, a 4xx everywhere)', async () => {
    const source = await (await fetch(`${s.url}/openapi.json`)).text()
    const problems = await lintFromString({ source, absoluteRef: `${s.url}/openapi.json`, config: await createConfig({ extends: ['recommended'] }) })
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([])
  }, 30_000)

  it('generates a typed client (openapi-typescript, one method per operationId) that type-checks, refuses a wrong body and works', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> }
    const dir = mkdtempSync(join(tmpdir(), 'sillage-client-'))
    writeFileSync(join(dir, 'schema.ts'), await openapiTS(doc as never, { silent: true }))
    const methods = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => `export const ${op.operationId} = (c: Client, a: Args<'${op.operationId}'>) => call<'${op.operationId}'>(c, '${method.toUpperCase()}', '${path}', a)`),
    )
    // The generated client: the schema's operations, and one typed function per operationId.
    writeFileSync(
      join(dir, 'client.ts'),
      `import type { operations } from './schema.ts'
type Op = keyof operations
type Pick2<T, K extends string> = T extends Record<K, infer V> ? V : never
export type Args<O extends Op> = { path?: Pick2<Pick2<operations[O], 'parameters'>, 'path'>; query?: Pick2<Pick2<operations[O], 'parameters'>, 'query'>; body?: Pick2<Pick2<Pick2<operations[O], 'requestBody'>, 'content'>, 'application/json'> }
type Responses<O extends Op> = Pick2<operations[O], 'responses'>
type Ok<O extends Op> = Pick2<Pick2<Pick2<Responses<O>, '200'> | Pick2<Responses<O>, '201'>, 'content'>, 'application/json'>
export interface Client { baseUrl: string; key: string }
export async function call<O extends Op>(c: Client, method: string, path: string, a: Args<O>): Promise<Ok<O>> {
  const url = new URL(c.baseUrl + path.replace(/\\{(\\w+)\\}/g, (_, k: string) => encodeURIComponent(String((a.path as Record<string, unknown>)[k]))))
  for (const [k, v] of Object.entries((a.query ?? {}) as Record<string, unknown>)) url.searchParams.set(k, String(v))
  const res = await fetch(url, { method, headers: { authorization: 'Bearer ' + c.key, 'content-type': 'application/json' }, body: a.body === undefined ? undefined : JSON.stringify(a.body) })
  if (!res.ok) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + (await res.text()))
  return (await res.json()) as Ok<O>
}
${methods.join('\n')}
`,
    )
    writeFileSync(
      join(dir, 'use.ts'),
      `import { createCampaign, createLink, getCampaignStats, type Client } from './client.ts'
export async function use(c: Client): Promise<{ name: string; position: number; sent: number }> {
  const campaign = await createCampaign(c, { body: { id: 'typed', name: 'Typed client', settings: { test: true } } })
  const link = await createLink(c, { path: { id: campaign.id }, body: { url: 'https://shop.example/t', label: 'hero' } })
  // @ts-expect-error a campaign has no "title"
  void (() => createCampaign(c, { body: { title: 'x' } }))
  const stats = await getCampaignStats(c, { path: { id: campaign.id } })
  // @ts-expect-error the answer is typed: stats have no "nope"
  void stats.nope
  return { name: campaign.name, position: link.position, sent: stats.sent }
}
`,
    )
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true, types: [] }, include: ['*.ts'] }),
    )
    const tsc = resolve('node_modules/.bin/tsc')
    const checked = await promisify(execFile)(tsc, ['-p', dir]).then(() => '', (e: { stdout: string }) => e.stdout)
    expect(checked).toBe('')
    const { use } = (await import(join(dir, 'use.ts'))) as { use: (c: { baseUrl: string; key: string }) => Promise<unknown> }
    expect(await use({ baseUrl: s.url, key: ADMIN_KEY })).toEqual({ name: 'Typed client', position: 1, sent: 0 })
  }, 60_000)
})
