import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApp } from '../../src/app.js'
import { startTestServer, type TestServer } from '../support/server.js'

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
    expect(JSON.parse(a.toString('utf8'))).toEqual(JSON.parse(JSON.stringify(app.getOpenAPI31Document({ openapi: '3.1.0', info: JSON.parse(a.toString('utf8')).info }))))
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
