import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scratchDatabase, type ScratchDatabase } from '../support/postgres.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { updateCampaign } from '../../src/services/campaigns.js'
import { updateLink } from '../../src/services/links.js'
import { createMetaStore, type MetaStore } from '../../src/store/meta.js'
import { LinkCache } from '../../src/tracking/links.js'
import { readerFetch } from '../support/server.js'
import { startChild, type Child } from './child.js'

/*
 * A cluster (primary and an edge worker, separate processes) beside another instance on the same
 * PostgreSQL: a campaign or a link that other instance changes reaches the worker's redirects
 * through the primary's periodic refresh and its push, within LINK_REFRESH_MS plus a query and the IPC hop.
 */
const PG_URL = process.env.TEST_DATABASE_URL
const REFRESH_MS = 100
const BOUND_MS = 1_500

if (!PG_URL) console.warn('cluster beside another instance on PostgreSQL SKIPPED: set TEST_DATABASE_URL=postgres://… (.ci/run does)')

describe.skipIf(!PG_URL)('a cluster beside another instance on one PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sillage-cluster-refresh-'))
  let db: ScratchDatabase
  let other: MetaStore
  let c: Child

  beforeAll(async () => {
    db = await scratchDatabase(PG_URL!, 'sillage_cluster')
    c = await startChild(dataDir, { WORKERS: '1', CLUSTER: '1', DATABASE_URL: db.url, LINK_REFRESH_MS: String(REFRESH_MS), OWN_DOMAINS: 'shop.example' }, true)
    other = await createMetaStore({ url: db.url, path: 'unused' })
  }, 90_000)
  afterAll(async () => {
    c?.proc.kill('SIGTERM')
    await c?.exited
    await other?.close()
    await db?.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("the worker redirects with the other instance's change within LINK_REFRESH_MS", async () => {
    await c.api('POST', '/v1/campaigns', { id: 'spring', name: 'Spring', tracking: { utm: true } })
    await c.api('POST', '/v1/campaigns/spring/links', { url: 'https://shop.example/spring', label: 'hero' })
    const sends = await c.api<{ recipients: { links: { url: string }[] }[] }>('POST', '/v1/campaigns/spring/sends', { recipients: [{ id: 'dupond' }] })
    const click = sends.recipients[0]!.links[0]!.url.replace(/^https?:\/\/[^/]+/, c.url)
    const utmSource = async () => {
      const r = await readerFetch(click)
      await r.arrayBuffer()
      expect(r.status).toBe(302)
      return new URL(r.headers.get('location')!).searchParams.get('utm_source')
    }
    expect(await utmSource()).toBe('sillage')

    // Written as another instance would: the cluster's processes are not told.
    await updateCampaign({ meta: other, links: new LinkCache(async () => ({ links: [], campaigns: [], max: 0 })) }, 'spring', { settings: { utm: false } })
    const t0 = Date.now()
    while ((await utmSource()) !== null) {
      expect(Date.now() - t0).toBeLessThan(BOUND_MS)
      await new Promise((r) => setTimeout(r, 10))
    }
  }, 30_000)

  it("the worker follows the other instance's change of a link's URL, then its retirement, within LINK_REFRESH_MS", async () => {
    await c.api('POST', '/v1/campaigns', { id: 'fix', name: 'Fix' })
    const link = await c.api<{ id: string }>('POST', '/v1/campaigns/fix/links', { url: 'https://shop.example/sprnig' })
    const sends = await c.api<{ recipients: { links: { url: string }[] }[] }>('POST', '/v1/campaigns/fix/sends', { recipients: [{ id: 'dupond' }] })
    const click = sends.recipients[0]!.links[0]!.url.replace(/^https?:\/\/[^/]+/, c.url)
    const answer = async () => {
      const r = await readerFetch(click)
      await r.arrayBuffer()
      return r.status === 302 ? r.headers.get('location') : String(r.status)
    }
    expect(await answer()).toBe('https://shop.example/sprnig')
    const otherInstance = { meta: other, links: new LinkCache(async () => ({ links: [], campaigns: [], max: 0 })) }
    for (const [change, expected] of [
      [{ url: 'https://shop.example/spring' }, 'https://shop.example/spring'],
      [{ disabled: true }, '410'],
    ] as const) {
      await updateLink(otherInstance, 'fix', link.id, change, 'other-instance')
      const t0 = Date.now()
      while ((await answer()) !== expected) {
        expect(Date.now() - t0).toBeLessThan(BOUND_MS)
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }, 30_000)
})
