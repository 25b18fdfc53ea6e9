import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMetaStore, type MetaStore } from '../../src/store/meta.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { testMetaStore } from '../support/stores.js'

const PG_URL = process.env.TEST_DATABASE_URL

/** A fresh PostgreSQL database state: everything the migrations made is dropped first. */
async function freshPostgres(url: string): Promise<MetaStore> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query('DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS drizzle CASCADE; CREATE SCHEMA public;')
  await client.end()
  return createMetaStore({ url, path: 'unused' })
}

const backends: Array<[string, (() => Promise<MetaStore>) | null]> = [
  ['PGlite', testMetaStore],
  ['PostgreSQL', PG_URL ? () => freshPostgres(PG_URL) : null],
]

if (!PG_URL) {
  console.warn('metadata tests against PostgreSQL SKIPPED: set TEST_DATABASE_URL=postgres://… (.ci/run does)')
}

for (const [name, make] of backends) {
  describe.skipIf(!make)(`metadata store on ${name}`, () => {
    let s: TestServer
    let meta: MetaStore
    beforeAll(async () => {
      meta = await make!()
      s = await startTestServer({ meta })
    })
    afterAll(async () => {
      await s?.stop()
      await meta?.close()
    })

    it('keeps campaigns, links and API keys, with the same answers on both stores', async () => {
      expect(meta.kind).toBe(name === 'PGlite' ? 'pglite' : 'postgres')
      expect((await s.api('POST', '/v1/campaigns', { name: 'Été', id: 'ete' })).status).toBe(201)
      expect((await s.api('POST', '/v1/campaigns', { name: 'again', id: 'ete' })).status).toBe(409)
      const a = await s.api('POST', '/v1/campaigns/ete/links', { url: 'https://example.com/a', label: 'A' })
      const b = await s.api('POST', '/v1/campaigns/ete/links', { url: 'https://example.com/a', label: 'A' })
      const c = await s.api('POST', '/v1/campaigns/ete/links', { url: 'https://example.com/a', label: 'other' })
      expect([a.status, b.status, c.status]).toEqual([201, 200, 201])
      expect(b.body.id).toBe(a.body.id)
      expect(c.body.id).not.toBe(a.body.id)
      const list = await s.api('GET', '/v1/campaigns/ete/links')
      expect(list.body.links.map((l: { label: string }) => l.label).sort()).toEqual(['A', 'other'])
      const campaigns = await s.api('GET', '/v1/campaigns')
      expect(campaigns.body.campaigns.map((x: { name: string }) => x.name)).toContain('Été')

      const key = await s.api('POST', '/v1/api-keys', { name: 'dashboard' })
      expect(key.status).toBe(201)
      expect(key.body.key).toMatch(/^sk_/)
      const withKey = await fetch(`${s.url}/v1/campaigns/ete`, { headers: { authorization: `Bearer ${key.body.key}` } })
      expect(withKey.status).toBe(200)
      // Stored hashed: the key itself is nowhere in the table.
      const rows = (await meta.db.execute(`select hash from api_keys`)) as unknown as { rows: Array<{ hash: string }> } | Array<{ hash: string }>
      const hashes = (Array.isArray(rows) ? rows : rows.rows).map((r) => r.hash)
      expect(hashes).toHaveLength(1)
      expect(hashes[0]).not.toContain(key.body.key)
      expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/)
    })

    it('serves a click of a link created on this store', async () => {
      const link = await s.api('POST', '/v1/campaigns/ete/links', { url: 'https://example.com/pg' })
      const sends = await s.api('POST', '/v1/campaigns/ete/sends', { recipients: [{ id: 'r1' }] })
      const tracked = sends.body.recipients[0].links.find((l: { id: string }) => l.id === link.body.id)
      const r = await fetch(tracked.url, { redirect: 'manual' })
      expect(r.status).toBe(302)
      expect(r.headers.get('location')).toBe('https://example.com/pg')
    })
  })
}
