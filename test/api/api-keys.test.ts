import { readFileSync } from 'node:fs'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_KEY_CACHE_MS, forgetApiKey, hashKey, verifyApiKey } from '../../src/services/auth-keys.js'
import { apiKeys } from '../../src/store/schema.js'
import { signIn } from '../dashboard/seed.js'
import { startTestServer, type TestServer } from '../support/server.js'

let s: TestServer
/** Added to the server's clock: how the auth cache's bound is crossed without waiting for it. */
let skew = 0
beforeAll(async () => {
  s = await startTestServer({ clock: () => Date.now() + skew })
}, 60_000)
afterAll(async () => {
  await s.stop()
})

const withKey = (key: string, path: string) => fetch(s.url + path, { headers: { authorization: `Bearer ${key}` } })

/** A request with a given key; returns status and parsed body. */
async function as(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(s.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

describe('API keys', () => {
  it('lists keys by name and prefix, never the key or its hash', async () => {
    const a = (await s.api('POST', '/v1/api-keys', { name: 'reporting' })).body
    const b = (await s.api('POST', '/v1/api-keys', { name: 'sender' })).body
    const list = await s.api('GET', '/v1/api-keys')
    expect(list.status).toBe(200)
    const mine = list.body.apiKeys.filter((k: { id: string }) => k.id === a.id || k.id === b.id)
    expect(mine).toEqual([
      { id: a.id, name: 'reporting', prefix: a.key.slice(0, 7), role: 'member', revoked: false, createdAt: a.createdAt },
      { id: b.id, name: 'sender', prefix: b.key.slice(0, 7), role: 'member', revoked: false, createdAt: b.createdAt },
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
    expect(r.body).toEqual({ id: k.id, name: 'leaked', prefix: k.prefix, role: 'member', revoked: true, createdAt: k.createdAt })

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

  it('lets an admin key revoke itself, and answers 404 for an unknown key', async () => {
    const k = (await s.api('POST', '/v1/api-keys', { name: 'self', role: 'admin' })).body
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

describe('API key roles', () => {
  it('lets only admin keys manage keys: a member key gets 403 forbidden on every key route, and works elsewhere', async () => {
    const member = (await s.api('POST', '/v1/api-keys', { name: 'reporting' })).body
    expect(member.role).toBe('member')
    const victim = (await s.api('POST', '/v1/api-keys', { name: 'victim', role: 'admin' })).body
    expect((await as(member.key, 'GET', '/v1/campaigns')).status).toBe(200)
    for (const [method, path, body] of [
      ['POST', '/v1/api-keys', { name: 'escalate', role: 'admin' }],
      ['POST', '/v1/api-keys', { name: 'plain' }],
      ['GET', '/v1/api-keys', undefined],
      ['DELETE', `/v1/api-keys/${victim.id}`, undefined],
      ['DELETE', `/v1/api-keys/${member.id}`, undefined],
      ['PATCH', `/v1/api-keys/${member.id}`, { role: 'admin' }],
      // Refused before its input is read: a bad body is still a 403, not a 400.
      ['POST', '/v1/api-keys', { nope: 1 }],
    ] as const) {
      const r = await as(member.key, method, path, body)
      expect(r.status, `${method} ${path}`).toBe(403)
      expect(r.body.error.code).toBe('forbidden')
      expect(r.body.error.message).toMatch(/managing API keys needs an admin key .*role is member/)
    }
    // Nothing happened: no new key, the victim still valid, the member still a member.
    const list = (await s.api('GET', '/v1/api-keys?limit=1000')).body.apiKeys as Array<{ id: string; name: string; role: string; revoked: boolean }>
    expect(list.some((k) => k.name === 'escalate' || k.name === 'plain')).toBe(false)
    expect(list.find((k) => k.id === victim.id)).toMatchObject({ revoked: false, role: 'admin' })
    expect(list.find((k) => k.id === member.id)).toMatchObject({ revoked: false, role: 'member' })
  })

  it('lets a key created with role admin create, list, promote and revoke keys', async () => {
    const admin = (await s.api('POST', '/v1/api-keys', { name: 'ops', role: 'admin' })).body
    expect(admin).toMatchObject({ name: 'ops', role: 'admin', revoked: false })
    const made = await as(admin.key, 'POST', '/v1/api-keys', { name: 'made-by-ops' })
    expect(made.status).toBe(201)
    expect(made.body.role).toBe('member')
    expect((await as(admin.key, 'GET', '/v1/api-keys')).status).toBe(200)
    const promoted = await as(admin.key, 'PATCH', `/v1/api-keys/${made.body.id}`, { role: 'admin' })
    expect(promoted.status).toBe(200)
    expect(promoted.body).toMatchObject({ id: made.body.id, role: 'admin', revoked: false })
    expect((await as(made.body.key, 'GET', '/v1/api-keys')).status).toBe(200)
    const revoked = await as(admin.key, 'DELETE', `/v1/api-keys/${made.body.id}`)
    expect(revoked.body).toMatchObject({ role: 'admin', revoked: true })
    expect((await s.api('POST', '/v1/api-keys', { name: 'x', role: 'root' })).body.error.message).toMatch(/^body\.role:/)
    expect((await s.api('PATCH', '/v1/api-keys/nope', { role: 'member' })).status).toBe(404)
  })

  it('applies a downgrade on this instance from the very next request, though the key was cached as admin', async () => {
    const k = (await s.api('POST', '/v1/api-keys', { name: 'demoted', role: 'admin' })).body
    expect((await as(k.key, 'GET', '/v1/api-keys')).status).toBe(200)
    expect((await s.api('PATCH', `/v1/api-keys/${k.id}`, { role: 'member' })).body.role).toBe('member')
    expect((await as(k.key, 'GET', '/v1/api-keys')).status).toBe(403)
    expect((await as(k.key, 'GET', '/v1/campaigns')).status).toBe(200)
  })

  it('refuses a key revoked or downgraded by another instance once the cache bound has passed', async () => {
    const revoked = (await s.api('POST', '/v1/api-keys', { name: 'elsewhere-revoked' })).body
    const demoted = (await s.api('POST', '/v1/api-keys', { name: 'elsewhere-demoted', role: 'admin' })).body
    expect((await as(revoked.key, 'GET', '/v1/campaigns')).status).toBe(200)
    expect((await as(demoted.key, 'GET', '/v1/api-keys')).status).toBe(200)
    // Another instance writes the store; this process's cache is not told.
    await s.deps.meta.db.update(apiKeys).set({ revoked: true }).where(eq(apiKeys.id, revoked.id))
    await s.deps.meta.db.update(apiKeys).set({ role: 'member' }).where(eq(apiKeys.id, demoted.id))
    try {
      skew = API_KEY_CACHE_MS - 1000
      // Still inside the bound: the cached answers (this is what the bound allows, no longer).
      expect((await as(revoked.key, 'GET', '/v1/campaigns')).status).toBe(200)
      expect((await as(demoted.key, 'GET', '/v1/api-keys')).status).toBe(200)
      skew = API_KEY_CACHE_MS + 1
      expect((await as(revoked.key, 'GET', '/v1/campaigns')).status).toBe(401)
      expect((await as(demoted.key, 'GET', '/v1/api-keys')).status).toBe(403)
      expect((await as(demoted.key, 'GET', '/v1/campaigns')).status).toBe(200)
    } finally {
      skew = 0
    }
  })

  it('does not cache the answer of a lookup that a revocation overtook', async () => {
    const k = (await s.api('POST', '/v1/api-keys', { name: 'raced' })).body
    const deps = s.deps
    // A lookup is under way when the key is forgotten (a revocation on this instance); it read the row
    // before the revocation's write, which lands after it. Its answer must not be cached.
    const inFlight = verifyApiKey(deps, k.key)
    forgetApiKey(hashKey(k.key))
    expect(await inFlight).toEqual({ id: k.id, role: 'member' })
    await deps.meta.db.update(apiKeys).set({ revoked: true }).where(eq(apiKeys.id, k.id))
    expect(await verifyApiKey(deps, k.key)).toBeNull()
  })

  it('documents the role and the 403 in the OpenAPI document', async () => {
    const doc = (await s.api('GET', '/openapi.json')).body
    expect(doc.components.schemas.ApiKey.properties.role.enum).toEqual(['admin', 'member'])
    expect(doc.components.schemas.ApiKey.required).toContain('role')
    for (const [path, method] of [['/v1/api-keys', 'get'], ['/v1/api-keys', 'post'], ['/v1/api-keys/{id}', 'delete'], ['/v1/api-keys/{id}', 'patch']] as const) {
      const op = doc.paths[path][method]
      expect(op.responses, `${method} ${path}`).toHaveProperty(['403'])
      expect(op.description).toMatch(/Admin only/)
    }
    expect(doc.paths['/v1/api-keys'].post.requestBody.content['application/json'].schema.properties.role.enum).toEqual(['admin', 'member'])
  })

  it('migrates keys made before roles to member, so no existing key gains a right', async () => {
    const k = (await s.api('POST', '/v1/api-keys', { name: 'old' })).body
    const sqlText = readFileSync(new URL('../../migrations/meta/0001_api_key_role.sql', import.meta.url), 'utf8')
    // Back to the table as it was before the migration, with the key in it, then the migration again.
    await s.deps.meta.db.execute(sql.raw('ALTER TABLE api_keys DROP CONSTRAINT api_keys_role'))
    await s.deps.meta.db.execute(sql.raw('ALTER TABLE api_keys DROP COLUMN role'))
    for (const statement of sqlText.split('--> statement-breakpoint')) await s.deps.meta.db.execute(sql.raw(statement))
    const [row] = await s.deps.meta.db.select({ role: apiKeys.role }).from(apiKeys).where(eq(apiKeys.id, k.id))
    expect(row!.role).toBe('member')
  })
})
