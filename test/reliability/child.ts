import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { seedMetaDir } from '../support/meta-seed.js'

export const ROOT = resolve(import.meta.dirname, '../..')
export const ADMIN_KEY = 'reliability-admin-key-0123456789'

export interface Child {
  url: string
  proc: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>
}

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

/** sillage as a separate process (`node --import tsx src/main.ts`), so it can be killed for real. */
export async function startChild(dataDir: string, env: Record<string, string> = {}, ownGroup = false, readyWithinMs = 60_000): Promise<Child> {
  seedMetaDir(dataDir)
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', TRACKER_ADMIN_KEY: ADMIN_KEY, WORKERS: '1', LOG_LEVEL: 'warn', FLUSH_INTERVAL_MS: '100', ...env },
    stdio: ['ignore', 'ignore', process.env.TEST_LOG ? 'inherit' : 'ignore'],
    // Its own process group, so a cluster (primary and workers) can be killed at once.
    detached: ownGroup,
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })))
  const url = `http://127.0.0.1:${port}`
  const until = Date.now() + readyWithinMs
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`sillage exited with ${proc.exitCode} before it was ready`)
    if (Date.now() > until) throw new Error(`sillage not ready after ${readyWithinMs / 1000} s`)
    const ok = await fetch(url + '/healthz').then((r) => r.ok, () => false)
    if (ok) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await r.text()
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`)
    return JSON.parse(text)
  }
  return { url, proc, exited, api }
}

/** A campaign, one link and `n` recipients; returns each recipient's click path. */
export async function clickFixture(c: Child, campaign: string, n: number): Promise<Array<{ id: string; path: string }>> {
  await c.api('POST', '/v1/campaigns', { id: campaign, name: campaign })
  await c.api('POST', `/v1/campaigns/${campaign}/links`, { url: `https://example.org/${campaign}` })
  const res = await c.api<{ recipients: { id: string; links: { url: string }[] }[] }>('POST', `/v1/campaigns/${campaign}/sends`, {
    recipients: Array.from({ length: n }, (_, i) => ({ id: `${campaign}-r${i}` })),
  })
  return res.recipients.map((r) => ({ id: r.id, path: new URL(r.links[0]!.url).pathname }))
}

/**
 * Clicks with `concurrency` loops, each recipient once, until `stop()` says so; returns the
 * recipients whose 302 was received (acknowledged) and those whose request failed.
 */
export async function clickLoad(url: string, targets: Array<{ id: string; path: string }>, concurrency: number, stop: (acked: number) => boolean) {
  const acked: string[] = []
  const failed: string[] = []
  let next = 0
  const loop = async () => {
    while (next < targets.length && !stop(acked.length)) {
      const t = targets[next++]!
      try {
        const r = await fetch(url + t.path, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36' } })
        await r.arrayBuffer()
        if (r.status === 302) acked.push(t.id)
        else failed.push(t.id)
      } catch {
        failed.push(t.id)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return { acked, failed }
}
