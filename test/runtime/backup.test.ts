import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedMetaDir } from '../support/meta-seed.js'

/*
 * npm run backup / npm run restore on the real engines, with the compiled entry points the npm
 * scripts run: a backup taken from a running server (which keeps answering meanwhile), restored
 * into an empty data directory, gives a server with the same metrics, keys and tokens.
 */
const ROOT = resolve(import.meta.dirname, '../..')
const ADMIN_KEY = 'backup-admin-key-0123456789'
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)'
const tmp = mkdtempSync(join(tmpdir(), 'sillage-backup-'))
const procs: ChildProcess[] = []

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
  })
}

// The second classification pass is off: it would mark these quick clicks too_soon_after_send at
// its own time, so the metrics compared would depend on when it ran.
const env = (dataDir: string, port = 0) => ({ ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', TRACKER_ADMIN_KEY: ADMIN_KEY, WORKERS: '1', LOG_LEVEL: 'warn', FLUSH_INTERVAL_MS: '100', CLASSIFY_PASS_INTERVAL_MS: '0' })

/** `node dist/main.js` on a data directory; resolves once /healthz answers. */
async function server(dataDir: string) {
  const port = await freePort()
  const proc = spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env: env(dataDir, port), stdio: ['ignore', 'ignore', process.env.TEST_LOG ? 'inherit' : 'ignore'] })
  procs.push(proc)
  const url = `http://127.0.0.1:${port}`
  for (const until = Date.now() + 150_000; !(await fetch(url + '/healthz').then((r) => r.ok, () => false)); ) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`)
    if (Date.now() > until) throw new Error('server not ready after 150 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  const api = async (method: string, path: string, body?: unknown, key = ADMIN_KEY) => {
    const r = await fetch(url + path, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: r.status, body: (await r.json()) as any }
  }
  return { url, port, proc, api }
}

/** A CLI from dist/cli, as `npm run backup|restore -- <dir>` runs it. */
function cli(name: 'backup' | 'restore', args: string[], e: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [`dist/cli/${name}.js`, ...args], { cwd: ROOT, env: e }, (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }))
  })
}

const click = (url: string, path: string) => fetch(url + path, { redirect: 'manual', headers: { 'user-agent': UA } }).then((r) => r.status)

let a: Awaited<ReturnType<typeof server>>
let tracked: string[]
let memberKey: string

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  seedMetaDir(join(tmp, 'a'))
  a = await server(join(tmp, 'a'))
  await a.api('POST', '/v1/campaigns', { id: 'spring', name: 'Spring' })
  await a.api('POST', '/v1/campaigns/spring/links', { url: 'https://shop.example/spring' })
  const sent = await a.api('POST', '/v1/campaigns/spring/sends', { recipients: [0, 1, 2, 3].map((i) => ({ id: `r${i}`, segments: [i % 2 ? 'odd' : 'even'] })) })
  tracked = sent.body.recipients.map((r: { links: { url: string }[] }) => new URL(r.links[0]!.url).pathname)
  memberKey = (await a.api('POST', '/v1/api-keys', { name: 'reporting' })).body.key
  for (const p of tracked.slice(0, 2)) expect(await click(a.url, p)).toBe(302)
  const opened = sent.body.recipients[0].pixelUrl as string
  await fetch(a.url + new URL(opened).pathname, { headers: { 'user-agent': UA } })
}, 420_000)

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
  rmSync(tmp, { recursive: true, force: true })
})

describe('backup and restore', () => {
  let before: { stats: unknown; links: unknown; segments: unknown }
  const snapshot = async (s: typeof a) => ({
    stats: (await s.api('GET', '/v1/campaigns/spring/stats')).body,
    links: (await s.api('GET', '/v1/campaigns/spring/links/stats')).body,
    segments: (await s.api('GET', '/v1/campaigns/spring/segments?by=segment')).body,
  })

  it('takes a backup from the running server, which keeps answering clicks meanwhile', async () => {
    const out = join(tmp, 'backup')
    // Another campaign's clicks during the backup: answered at once (the edge never waits on the backup).
    await a.api('POST', '/v1/campaigns', { id: 'busy', name: 'Busy' })
    await a.api('POST', '/v1/campaigns/busy/links', { url: 'https://shop.example/busy' })
    const busy = (await a.api('POST', '/v1/campaigns/busy/sends', { recipients: [{ id: 'x' }] })).body.recipients[0].links[0].url as string
    // The backup flushes the journal itself: what was clicked above is in it without waiting.
    const taking = cli('backup', [out], env(join(tmp, 'a'), a.port))
    const during: number[] = []
    let done = false
    void taking.then(() => (done = true))
    while (!done) {
      during.push(await click(a.url, new URL(busy).pathname))
      await new Promise((r) => setTimeout(r, 20))
    }
    const r = await taking
    expect(r.code, r.stderr).toBe(0)
    expect(during.length).toBeGreaterThan(0)
    expect(new Set(during)).toEqual(new Set([302]))
    const manifest = JSON.parse(readFileSync(join(out, 'backup.json'), 'utf8'))
    expect(manifest).toMatchObject({ format: 1, database: 'sillage', secret: 'file' })
    expect(statSync(join(out, 'tracker-secret')).mode & 0o777).toBe(0o600)
    expect(statSync(join(out, 'meta.tar.gz')).size).toBe(manifest.meta.bytes)
    // Moved out of the server's DATA_DIR/backups to the directory asked for.
    expect(readdirSync(join(tmp, 'a', 'backups'))).toEqual([])
    before = await snapshot(a)
    expect((before.stats as { clicks: { total: number } }).clicks.total).toBe(2)
    a.proc.kill('SIGTERM')
  }, 120_000)

  it('restores into an empty data directory: same metrics, same keys, the tokens already sent verify', async () => {
    const restored = await cli('restore', [join(tmp, 'backup')], env(join(tmp, 'b')))
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout)).toMatchObject({ sends: 5, campaigns: 2 })
    const b = await server(join(tmp, 'b'))
    expect(await snapshot(b)).toEqual(before)
    expect((await b.api('GET', '/v1/campaigns/spring/stats', undefined, memberKey)).status).toBe(200)
    // A recipient who had not clicked yet clicks the link from the e-mail sent before the backup.
    expect(await click(b.url, tracked[2]!)).toBe(302)
    let stats: any
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      stats = (await b.api('GET', '/v1/campaigns/spring/stats')).body
      if (stats.clicks.total === 3) break
    }
    expect(stats.clicks).toMatchObject({ total: 3, unique: 3 })
    expect(stats.invalidToken.clicks).toBe(0)
    b.proc.kill('SIGTERM')
    // Never over existing stores.
    const again = await cli('restore', [join(tmp, 'backup')], env(join(tmp, 'b')))
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/not empty/)
  }, 120_000)
})
