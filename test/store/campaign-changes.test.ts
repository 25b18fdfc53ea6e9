import { scratchDatabase, type ScratchDatabase } from '../support/postgres.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { updateCampaign } from '../../src/services/campaigns.js'
import { createMetaStore, type MetaDb, type MetaStore } from '../../src/store/meta.js'
import { campaigns } from '../../src/store/schema.js'
import { campaignVersion, LinkCache, type CachedCampaign, type LinkDelta } from '../../src/tracking/links.js'
import { eq } from 'drizzle-orm'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { testEventStore } from '../support/stores.js'

/*
 * Several instances on one metadata database: a campaign changed through one is on the others'
 * redirects within LINK_REFRESH_MS (plus a query), and concurrent changes of different settings
 * keys all survive. PostgreSQL runs two app instances in this process on one database; PGlite
 * (one process per data directory) covers the single-instance path of the same code.
 */
const PG_URL = process.env.TEST_DATABASE_URL
const REFRESH_MS = 100
/** REFRESH_MS plus a query and a redirect, with room for a loaded CI machine. */
const BOUND_MS = 1_500
const env = { LINK_REFRESH_MS: String(REFRESH_MS), TRACKER_SECRET: 'campaign-changes-secret-0123456789', CLASSIFY_PASS_INTERVAL_MS: '0' }

if (!PG_URL) console.warn('two instances on one PostgreSQL SKIPPED: set TEST_DATABASE_URL=postgres://… (.ci/run does)')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function location(url: string): Promise<URL> {
  const r = await readerFetch(url)
  await r.arrayBuffer()
  expect(r.status).toBe(302)
  return new URL(r.headers.get('location')!)
}

/** Milliseconds until `check` holds, polled; fails past BOUND_MS. */
async function within(check: () => Promise<boolean> | boolean): Promise<number> {
  const t0 = Date.now()
  while (!(await check())) {
    if (Date.now() - t0 > BOUND_MS) throw new Error(`not seen within ${BOUND_MS} ms`)
    await sleep(10)
  }
  return Date.now() - t0
}

/** A cache no server reads: what writing "from another instance" tells this one (nothing). */
const elsewhere = () => new LinkCache(async () => ({ links: [], campaigns: [], max: 0 }))

async function version(meta: MetaStore, id: string): Promise<number> {
  const [row] = await meta.db.select({ v: campaignVersion }).from(campaigns).where(eq(campaigns.id, id))
  return row!.v
}

/** A campaign with UTM decoration and one labelled link; the tracked click URL on `reader`. */
async function campaignWithClick(writer: TestServer, reader: TestServer, id: string): Promise<string> {
  expect((await writer.api('POST', '/v1/campaigns', { id, name: id, tracking: { utm: true } })).status).toBe(201)
  expect((await writer.api('POST', `/v1/campaigns/${id}/links`, { url: 'https://shop.example/spring', label: 'hero' })).status).toBe(201)
  const sends = await writer.api('POST', `/v1/campaigns/${id}/sends`, { recipients: [{ id: 'dupond' }] })
  return (sends.body.recipients[0].links[0].url as string).replace(writer.url, reader.url)
}

/**
 * Rounds of concurrent PATCHes, each of one of three settings keys (four of each), spread over the
 * given instances: every key ends with this round's value, none with a value an overwrite brought back.
 */
async function concurrentPatchesKeepEveryKey(servers: TestServer[], id: string) {
  for (let i = 0; i < 10; i++) {
    const patches = [{ settings: { pixel: i % 2 === 0 } }, { settings: { utm: { source: `s${i}` } } }, { tracking: { clickIdParam: `p${i}` } }]
    const all = Array.from({ length: 4 }, () => patches).flat()
    const answers = await Promise.all(all.map((p, k) => servers[k % servers.length]!.api('PATCH', `/v1/campaigns/${id}`, p)))
    expect(answers.map((a) => a.status)).toEqual(all.map(() => 200))
    const got = await servers[0]!.api('GET', `/v1/campaigns/${id}`)
    expect(got.body.settings).toEqual({ pixel: i % 2 === 0, utm: { source: `s${i}` }, clickId: { param: `p${i}` } })
  }
}

describe.skipIf(!PG_URL)('two instances on one PostgreSQL', () => {
  let db: ScratchDatabase
  let metaA: MetaStore
  let metaB: MetaStore
  let a: TestServer
  let b: TestServer

  beforeAll(async () => {
    db = await scratchDatabase(PG_URL!, 'sillage_instances')
    metaA = await createMetaStore({ url: db.url, path: 'unused' })
    metaB = await createMetaStore({ url: db.url, path: 'unused' })
    const events = testEventStore()
    a = await startTestServer({ meta: metaA, events, env })
    b = await startTestServer({ meta: metaB, events, env })
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await metaA?.close()
    await metaB?.close()
    await db?.drop()
  })

  it("B redirects with A's changed decoration within LINK_REFRESH_MS, and tells its cluster workers", async () => {
    const click = await campaignWithClick(a, b, 'spring')
    const first = await location(click)
    expect(first.searchParams.get('utm_source')).toBe('sillage')
    expect(first.searchParams.get('utm_content')).toBe('hero')
    // What a cluster primary forwards to its workers.
    const pushed: CachedCampaign[] = []
    b.deps.links.onCampaign((c) => pushed.push(c))
    const before = await version(metaA, 'spring')

    expect((await a.api('PATCH', '/v1/campaigns/spring', { tracking: { utm: false, clickIdParam: 'cid' } })).status).toBe(200)
    // B already holds the link and the campaign: no miss, only the periodic refresh can bring this.
    await within(async () => (await location(click)).searchParams.get('cid') !== null)
    const after = await location(click)
    expect(after.searchParams.get('utm_source')).toBeNull()
    expect(after.searchParams.get('cid')).toMatch(/.{10,}/)
    expect(pushed.map((c) => c.settings)).toEqual([{ utm: false, clickId: { param: 'cid' } }])
    expect(await version(metaA, 'spring')).toBeGreaterThan(before)
  })

  it("a change committed after B's refreshes passed its timestamp still reaches B (the cursor's overlap)", async () => {
    await within(() => b.deps.links.campaign('spring') !== undefined)
    await metaA.db.transaction(async (tx) => {
      await updateCampaign({ meta: { ...metaA, db: tx as unknown as MetaDb }, links: elsewhere() }, 'spring', { settings: { pixel: false } })
      // Uncommitted meanwhile: B's refreshes move their cursor past the row's updated_at without seeing it.
      await sleep(REFRESH_MS * 5)
      expect(b.deps.links.campaign('spring')!.settings.pixel).toBeUndefined()
    })
    await within(() => b.deps.links.campaign('spring')!.settings.pixel === false)
  })

  it('concurrent PATCHes of different keys through both instances keep every key', async () => {
    await concurrentPatchesKeepEveryKey([a, b], 'spring')
    // And both caches end on the stored settings.
    const stored = (await a.api('GET', '/v1/campaigns/spring')).body.settings
    await within(() => JSON.stringify(b.deps.links.campaign('spring')!.settings) === JSON.stringify(stored))
    expect(a.deps.links.campaign('spring')!.settings).toEqual(stored)
  })

  it('survives PostgreSQL terminating its idle connections (a restart, an administrator): reconnects, no crash', async () => {
    const lost: string[] = []
    const meta = await createMetaStore({ url: db.url, path: 'unused', onConnectionError: (err) => lost.push(err.message) })
    try {
      await meta.ping()
      await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name])
      for (let i = 0; i < 50 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(lost.length).toBeGreaterThan(0)
      await meta.ping()
      // The servers' own pools lost their connections too, and still answer.
      expect((await a.api('GET', '/v1/campaigns')).status).toBe(200)
      expect((await b.api('GET', '/v1/campaigns')).status).toBe(200)
    } finally {
      await meta.close()
    }
  })
})

describe('one instance on PGlite', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer({ env })
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('sets updated_at in the database on create and on every change, and applies its own change at once', async () => {
    const click = await campaignWithClick(s, s, 'ete')
    const [row] = await s.deps.meta.db.select().from(campaigns).where(eq(campaigns.id, 'ete'))
    expect(row!.updatedAt.getTime()).toBe(row!.createdAt.getTime())
    const v0 = await version(s.deps.meta, 'ete')
    expect((await s.api('PATCH', '/v1/campaigns/ete', { name: 'Été' })).status).toBe(200)
    const v1 = await version(s.deps.meta, 'ete')
    expect(v1).toBeGreaterThan(v0)
    expect((await s.api('PATCH', '/v1/campaigns/ete', { tracking: { utm: false } })).status).toBe(200)
    expect(await version(s.deps.meta, 'ete')).toBeGreaterThan(v1)
    // Its own change needs no refresh.
    expect((await location(click)).searchParams.get('utm_source')).toBeNull()
    expect((await s.api('PATCH', '/v1/campaigns/nope', { name: 'x' })).status).toBe(404)
  })

  it('concurrent PATCHes of different keys keep every key', async () => {
    await concurrentPatchesKeepEveryKey([s], 'ete')
  })

  it('concurrent changes issued at once keep every key (each read would see none of the others)', async () => {
    // Through HTTP, PGlite's one connection tends to finish one request before the next arrives; here all are queued together.
    const deps = { meta: s.deps.meta, links: s.deps.links }
    await updateCampaign(deps, 'ete', { settings: { pixel: true, utm: false, clickId: false } })
    await Promise.all([
      updateCampaign(deps, 'ete', { settings: { pixel: false } }),
      updateCampaign(deps, 'ete', { settings: { utm: { source: 'x' } } }),
      updateCampaign(deps, 'ete', { settings: { clickId: { param: 'y' } } }),
    ])
    expect((await s.api('GET', '/v1/campaigns/ete')).body.settings).toEqual({ pixel: false, utm: { source: 'x' }, clickId: { param: 'y' } })
    expect(s.deps.links.campaign('ete')!.settings).toEqual({ pixel: false, utm: { source: 'x' }, clickId: { param: 'y' } })
  })

  it('a change written to the store by another instance reaches the redirects within LINK_REFRESH_MS', async () => {
    const click = await campaignWithClick(s, s, 'automne')
    expect((await location(click)).searchParams.get('utm_source')).toBe('sillage')
    await updateCampaign({ meta: s.deps.meta, links: elsewhere() }, 'automne', { settings: { utm: false } })
    await within(async () => (await location(click)).searchParams.get('utm_source') === null)
  })
})

describe('LinkCache', () => {
  it('keeps a newer campaign version than a refresh that read the store before the change', async () => {
    let answer!: (d: LinkDelta) => void
    let calls = 0
    const cache = new LinkCache((since) => (calls++ === 0 ? Promise.resolve({ links: [], campaigns: [], max: since }) : new Promise((r) => (answer = r))))
    await cache.load()
    const stale = cache.lookupCampaign('c')
    await within(() => calls === 2)
    cache.addCampaign({ id: 'c', settings: { utm: false }, version: 2 })
    answer({ links: [], campaigns: [{ id: 'c', settings: { utm: true }, version: 1 }], max: 5 })
    expect((await stale)!.settings).toEqual({ utm: false })
  })

  it('keeps a newer link version than a refresh that read the store before the change', async () => {
    let answer!: (d: LinkDelta) => void
    let calls = 0
    const v0 = { id: 'l', campaignId: 'c', url: 'https://a.example/old', version: 0 }
    const cache = new LinkCache((since) => (calls++ === 0 ? Promise.resolve({ links: [v0], campaigns: [], max: since }) : new Promise((r) => (answer = r))))
    await cache.load()
    const stale = cache.lookupLink('other')
    await within(() => calls === 2)
    cache.addLink({ ...v0, url: 'https://a.example/new', version: 1 })
    answer({ links: [v0], campaigns: [], max: 5 })
    await stale
    expect(cache.link('l')!.url).toBe('https://a.example/new')
  })

  it("pulls from the cursor the store's clock gave, never from this process's clock", async () => {
    const seen: number[] = []
    const cache = new LinkCache(async (since) => (seen.push(since), { links: [], campaigns: [], max: 1_000 }), { refreshMs: 20 })
    await cache.load()
    await within(() => seen.length >= 3)
    cache.close()
    expect(seen.slice(0, 3)).toEqual([0, 1_000, 1_000])
  })
})
