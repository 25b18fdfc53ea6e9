import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signIn } from '../dashboard/seed.js'
import { startTestServer, type TestServer } from '../support/server.js'

let s: TestServer
beforeAll(async () => {
  s = await startTestServer()
}, 60_000)
afterAll(async () => {
  await s.stop()
})

const withKey = (key: string, path: string) => fetch(s.url + path, { headers: { authorization: `Bearer ${key}` } })

describe('API keys', () => {
  it('lists keys by name and prefix, never the key or its hash', async () => {
    const a = (await s.api('POST', '/v1/api-keys', { name: 'reporting' })).body
    const b = (await s.api('POST', '/v1/api-keys', { name: 'sender' })).body
    const list = await s.api('GET', '/v1/api-keys')
    expect(list.status).toBe(200)
    const mine = list.body.apiKeys.filter((k: { id: string }) => k.id === a.id || k.id === b.id)
    expect(mine).toEqual([
      { id: a.id, name: 'reporting', prefix: a.key.slice(0, 7), revoked: false, createdAt: a.createdAt },
      { id: b.id, name: 'sender', prefix: b.key.slice(0, 7), revoked: false, createdAt: b.createdAt },
    ])
    const text = JSON.stringify(list.body)
    expect(text).not.toContain(a.key)
    expect(text).not.toContain(b.key)
    expect(text).not.toMatch(/"hash"/)
    expect(list.body).toMatchObject({ total: list.body.apiKeys.length, limit: 100, offset: 0, next: null })
    const page = await s.api('GET', '/v1/api-keys?limit=1')
    expect(page.body.apiKeys).toHaveLength(1)
    expect(page.body.next).toBe(1)
  })

  it('revokes a key: refused at once though it was just used (cached), its dashboard session ends, still listed as revoked', async () => {
    const k = (await s.api('POST', '/v1/api-keys', { name: 'leaked' })).body
    // Used once, so the auth cache holds it.
    expect((await withKey(k.key, '/v1/campaigns')).status).toBe(200)
    const session = await signIn(s, k.key)
    expect(session.status).toBe(303)
    const dash = () => fetch(`${s.url}/dashboard`, { redirect: 'manual', headers: { cookie: session.cookie } }).then((r) => r.status)
    expect(await dash()).toBe(200)

    const r = await s.api('DELETE', `/v1/api-keys/${k.id}`)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ id: k.id, name: 'leaked', prefix: k.prefix, revoked: true, createdAt: k.createdAt })

    const after = await withKey(k.key, '/v1/campaigns')
    expect(after.status).toBe(401)
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    expect(await dash()).toBe(303)
    expect((await signIn(s, k.key)).status).toBe(403)
    const listed = (await s.api('GET', '/v1/api-keys')).body.apiKeys.find((x: { id: string }) => x.id === k.id)
    expect(listed.revoked).toBe(true)
    // Idempotent: the same answer again.
    expect((await s.api('DELETE', `/v1/api-keys/${k.id}`)).body).toEqual(r.body)
  })

  it('lets a key revoke itself, and answers 404 for an unknown key', async () => {
    const k = (await s.api('POST', '/v1/api-keys', { name: 'self' })).body
    const self = await fetch(`${s.url}/v1/api-keys/${k.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${k.key}` } })
    expect(self.status).toBe(200)
    expect((await withKey(k.key, '/v1/api-keys')).status).toBe(401)
    const missing = await s.api('DELETE', '/v1/api-keys/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('not_found')
    expect((await s.api('DELETE', '/v1/api-keys/admin')).status).toBe(404)
  })
})

describe('GET /v1/campaigns paging', () => {
  it('gives the total and the offset of the next page, null on the last', async () => {
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) expect((await s.api('POST', '/v1/campaigns', { id, name: id })).status).toBe(201)
    const seen: string[] = []
    let offset: number | null = 0
    let pages = 0
    while (offset !== null) {
      const r: { status: number; body: { campaigns: Array<{ id: string }>; total: number; limit: number; offset: number; next: number | null } } = await s.api('GET', `/v1/campaigns?limit=2&offset=${offset}`)
      expect(r.status).toBe(200)
      expect(r.body.total).toBe(5)
      expect(r.body).toMatchObject({ limit: 2, offset })
      seen.push(...r.body.campaigns.map((c) => c.id))
      offset = r.body.next
      pages++
    }
    expect(pages).toBe(3)
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5'])
    const past = (await s.api('GET', '/v1/campaigns?offset=10')).body
    expect(past).toMatchObject({ campaigns: [], total: 5, next: null })
  })
})
