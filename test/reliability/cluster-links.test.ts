import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedMetaDir } from '../support/meta-seed.js'
import { readerFetch } from '../support/server.js'
import { ADMIN_KEY, ROOT, startChild, type Child } from './child.js'

/*
 * Cluster mode (the default on a machine with several cores): the edge workers never open the
 * metadata store, so what the redirect needs of a link and its campaign must reach them from
 * the primary — the link's label (utm_content) and the campaign's settings, also when changed.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'sillage-cluster-links-'))
let c: Child

beforeAll(async () => {
  c = await startChild(dataDir, { WORKERS: '1', CLUSTER: '1', OWN_DOMAINS: 'shop.example' }, true)
}, 90_000)
afterAll(async () => {
  c?.proc.kill('SIGTERM')
  await c?.exited
  rmSync(dataDir, { recursive: true, force: true })
})

const location = async (url: string) => {
  const r = await readerFetch(url)
  await r.arrayBuffer()
  expect(r.status).toBe(302)
  return new URL(r.headers.get('location')!)
}

describe('cluster workers redirect with what the primary knows', () => {
  it("decorate with the link's label, and follow a campaign's changed settings at once", async () => {
    await c.api('POST', '/v1/campaigns', { id: 'spring', name: 'Spring', tracking: { utm: true } })
    await c.api('POST', '/v1/campaigns/spring/links', { url: 'https://shop.example/spring', label: 'hero' })
    const sends = await c.api<{ recipients: { links: { url: string }[] }[] }>('POST', '/v1/campaigns/spring/sends', { recipients: [{ id: 'dupond' }] })
    const click = sends.recipients[0]!.links[0]!.url.replace(/^https?:\/\/[^/]+/, c.url)

    const first = await location(click)
    expect(first.searchParams.get('utm_source')).toBe('sillage')
    expect(first.searchParams.get('utm_content')).toBe('hero')

    await c.api('PATCH', '/v1/campaigns/spring', { tracking: { utm: false, clickIdParam: 'cid' } })
    // IPC to the worker is asynchronous: the next clicks see the change within moments, not after a restart.
    let after = await location(click)
    for (let i = 0; i < 20 && after.searchParams.get('cid') === null; i++) {
      await new Promise((r) => setTimeout(r, 50))
      after = await location(click)
    }
    expect(after.searchParams.get('utm_source')).toBeNull()
    expect(after.searchParams.get('cid')).toMatch(/.{10,}/)
  }, 120_000)
})

describe('cluster start-up', () => {
  it('fails (exit 1, a reason on stderr) when a worker cannot listen, instead of forking it forever', async () => {
    const taken = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()))
    const port = (taken.address() as { port: number }).port
    const dir = mkdtempSync(join(tmpdir(), 'sillage-cluster-port-'))
    // The stores open before the workers fork: start from the migrated metadata (initdb alone took
    // most of the 60 s on 2 cores at load 17).
    seedMetaDir(dir)
    try {
      const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', TRACKER_ADMIN_KEY: ADMIN_KEY, WORKERS: '1', CLUSTER: '1', LOG_LEVEL: 'silent', OWN_DOMAINS: 'shop.example' },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
      const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)))
      expect(code).toBe(1)
      expect(stderr).toContain('before listening')
    } finally {
      taken.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
