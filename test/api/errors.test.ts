import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../support/server.js'

let s: TestServer

beforeAll(async () => {
  s = await startTestServer({ env: { MAX_BODY_BYTES: String(2 * 1024 * 1024) } })
  await s.api('POST', '/v1/campaigns', { name: 'Errors', id: 'err' })
})
afterAll(async () => {
  await s.stop()
})

function expectError(res: { status: number; body: any }, status: number, code: string, mentions?: string) {
  expect(res.status).toBe(status)
  expect(res.body.error.code).toBe(code)
  expect(typeof res.body.error.message).toBe('string')
  expect(res.body.error.requestId).toBeTruthy()
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/)
  if (mentions) expect(res.body.error.message).toContain(mentions)
}

describe('every API error is JSON with a code, a message and the right status', () => {
  it('401 without or with a wrong key', async () => {
    expectError(await s.api('GET', '/v1/campaigns', undefined, { authorization: '' }), 401, 'unauthorized')
    expectError(await s.api('GET', '/v1/campaigns', undefined, { authorization: 'Bearer nope' }), 401, 'unauthorized')
    expectError(await s.api('GET', '/v1/campaigns', undefined, { authorization: 'Basic abc' }), 401, 'unauthorized')
  })

  it('400 for a NUL character PostgreSQL cannot store, in a body, a query or a path — and an erasure that refuses erases nothing', async () => {
    expectError(await s.api('POST', '/v1/campaigns', { name: 'a\u0000b' }), 400, 'validation_failed', 'U+0000')
    expectError(await s.api('GET', '/v1/suppressions?recipientId=a%00b'), 400, 'validation_failed', 'U+0000')
    expectError(await s.api('DELETE', '/v1/recipients/a%00b'), 400, 'validation_failed', 'U+0000')
  })

  it('400 naming the bad field', async () => {
    expectError(await s.api('POST', '/v1/campaigns/err/links', { url: 'https://shop.example/', label: '__honeypot__' }), 400, 'validation_failed', 'body.label')
    expectError(await s.api('POST', '/v1/campaigns', {}), 400, 'validation_failed', 'body.name')
    expectError(await s.api('POST', '/v1/campaigns', { name: 'x', id: 'has spaces' }), 400, 'validation_failed', 'body.id')
    expectError(await s.api('POST', '/v1/campaigns', { name: 'x', extra: 1 }), 400, 'validation_failed')
    expectError(await s.api('POST', '/v1/campaigns/err/links', { url: 'javascript:alert(1)' }), 400, 'validation_failed', 'body.url')
    expectError(await s.api('POST', '/v1/campaigns/err/links', { url: 'mailto:a@b.c' }), 400, 'validation_failed', 'body.url')
    expectError(await s.api('POST', '/v1/campaigns/err/links', { url: '/relative' }), 400, 'validation_failed', 'body.url')
    expectError(await s.api('POST', '/v1/campaigns/err/sends', { recipients: [] }), 400, 'validation_failed', 'body.recipients')
    expectError(await s.api('POST', '/v1/campaigns/err/sends', { recipients: [{ id: '' }] }), 400, 'validation_failed', 'body.recipients.0.id')
    expectError(await s.api('POST', '/v1/campaigns/err/sends', { recipients: [{ id: 'a' }], sentAt: 'yesterday' }), 400, 'validation_failed', 'body.sentAt')
    expectError(await s.api('GET', '/v1/campaigns?limit=0'), 400, 'validation_failed', 'query.limit')
  })

  it('400 for a body that is not JSON', async () => {
    expectError(await s.api('POST', '/v1/campaigns', '{"name": '), 400, 'invalid_json')
  })

  it('415 for a body of another type', async () => {
    expectError(await s.api('POST', '/v1/campaigns', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type')
  })

  it('404 for an unknown campaign or route', async () => {
    expectError(await s.api('GET', '/v1/campaigns/nope'), 404, 'not_found', 'nope')
    expectError(await s.api('POST', '/v1/campaigns/nope/links', { url: 'https://example.com' }), 404, 'not_found')
    expectError(await s.api('POST', '/v1/campaigns/nope/sends', { recipients: [{ id: 'a' }] }), 404, 'not_found')
    expectError(await s.api('GET', '/v1/nothing-here'), 404, 'not_found')
  })

  it('409 for a campaign id taken', async () => {
    expectError(await s.api('POST', '/v1/campaigns', { name: 'again', id: 'err' }), 409, 'conflict', 'err')
  })

  it('413 past 10,000 recipients, and past the body limit', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ id: `r${i}` }))
    expectError(await s.api('POST', '/v1/campaigns/err/sends', { recipients: many }), 413, 'payload_too_large', '10000')
    const huge = JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) })
    expectError(await s.api('POST', '/v1/campaigns', huge), 413, 'payload_too_large')
  })
})

describe('system endpoints', () => {
  it('healthz and readyz', async () => {
    expect((await s.api('GET', '/healthz')).body).toEqual({ status: 'ok' })
    const ready = await s.api('GET', '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body.checks).toMatchObject({ clickhouse: { ok: true }, metadata: { ok: true }, journal: { ok: true } })
  })

  it('publishes the OpenAPI document generated from the validating schemas, and a docs page', async () => {
    const doc = await s.api('GET', '/openapi.json')
    expect(doc.status).toBe(200)
    expect(doc.body.openapi).toMatch(/^3\.1/)
    for (const path of ['/v1/campaigns', '/v1/campaigns/{id}', '/v1/campaigns/{id}/links', '/v1/campaigns/{id}/sends', '/v1/campaigns/{id}/stats', '/v1/campaigns/{id}/links/stats', '/v1/api-keys']) {
      expect(doc.body.paths, path).toHaveProperty([path])
    }
    const create = doc.body.paths['/v1/campaigns'].post
    expect(create.requestBody.content['application/json'].schema.required).toContain('name')
    const docs = await fetch(`${s.url}/docs`)
    expect(docs.headers.get('content-type')).toContain('text/html')
    expect(await docs.text()).toContain('POST /v1/campaigns/{id}/sends')
  })
})
