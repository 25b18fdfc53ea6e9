import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/*
 * The production start, as the Dockerfile does it: the files its last stage copies (and only
 * those: no src/, so nothing can still reach for TypeScript), its CMD, its environment. The
 * build is the one `npm start` and the image's build stage run (scripts/build.mjs).
 */
const ROOT = resolve(import.meta.dirname, '../..')
const ADMIN_KEY = 'image-start-admin-key-0123456789'
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)'

/** The final stage of the Dockerfile: what it copies into /app, its ENV and its CMD. */
function finalStage() {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ')
  const stage = text.slice(text.lastIndexOf('\nFROM '))
  const lines = stage.split('\n').map((l) => l.trim())
  const copied = lines.filter((l) => l.startsWith('COPY ')).map((l) => basename(l.split(/\s+/).at(-2)!))
  const env: Record<string, string> = {}
  for (const l of lines.filter((l) => l.startsWith('ENV '))) {
    for (const [, k, v] of l.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k!] = v!
  }
  const cmd = JSON.parse(lines.find((l) => l.startsWith('CMD '))!.slice(4)) as string[]
  return { copied, env, cmd }
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

const tmp = mkdtempSync(join(tmpdir(), 'sillage-image-'))
let proc: ChildProcess
let exited: Promise<number | null>
let url: string
const stage = finalStage()

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`)
  return JSON.parse(text) as T
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const app = join(tmp, 'app')
  mkdirSync(app)
  for (const name of stage.copied) {
    if (name === 'node_modules') symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'))
    else cpSync(join(ROOT, name), join(app, name), { recursive: true })
  }
  const port = await freePort()
  const [command, ...args] = stage.cmd
  expect(command).toBe('node')
  proc = spawn(process.execPath, args, {
    cwd: app,
    // The image's environment, a temp volume, and a primary with one edge worker (the image's
    // default is one worker per core): the workers are forked from the same compiled entry.
    env: { PATH: process.env.PATH, ...stage.env, DATA_DIR: join(tmp, 'data'), PORT: String(port), HOST: '127.0.0.1', TRACKER_ADMIN_KEY: ADMIN_KEY, CLUSTER: '1', WORKERS: '1', LOG_LEVEL: 'warn', FLUSH_INTERVAL_MS: '100' },
    stdio: ['ignore', 'ignore', process.env.TEST_LOG ? 'inherit' : 'ignore'],
  })
  exited = new Promise((res) => proc.once('exit', (code) => res(code)))
  url = `http://127.0.0.1:${port}`
  const until = Date.now() + 150_000
  while (!(await fetch(url + '/healthz').then((r) => r.ok, () => false))) {
    if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}`)
    if (Date.now() > until) throw new Error('not ready after 150 s')
    await new Promise((r) => setTimeout(r, 100))
  }
}, 300_000)

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    proc.kill('SIGKILL')
    await exited
  }
  rmSync(tmp, { recursive: true, force: true })
})

describe('the image start command', () => {
  it('is node on the compiled entry, and the image holds no TypeScript source', () => {
    expect(stage.cmd).toEqual(['node', 'dist/main.js'])
    expect(new Set(stage.copied)).toEqual(new Set(['node_modules', 'dist', 'package.json', 'migrations']))
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    expect(cmdline).toEqual([process.execPath, 'dist/main.js'])
  })

  it('serves the API, the edge, the dashboard assets, and stores what it tracks', async () => {
    await api('POST', '/v1/campaigns', { id: 'image', name: 'Image' })
    await api('POST', '/v1/campaigns/image/links', { url: 'https://example.org/image' })
    const sent = await api<{ recipients: { links: { url: string }[]; pixelUrl: string }[] }>('POST', '/v1/campaigns/image/sends', { recipients: [{ id: 'r1' }] })
    const click = await fetch(url + new URL(sent.recipients[0]!.links[0]!.url).pathname, { redirect: 'manual', headers: { 'user-agent': UA } })
    expect(click.status).toBe(302)
    expect(click.headers.get('location')).toBe('https://example.org/image')
    // Files read by paths relative to the compiled modules: uPlot under node_modules, the dashboard's own assets.
    for (const asset of ['uPlot.iife.min.js', 'dashboard.js']) {
      const r = await fetch(`${url}/dashboard/assets/${asset}`)
      expect(r.status, asset).toBe(200)
      expect((await r.text()).length, asset).toBeGreaterThan(500)
    }
    let clicks = 0
    for (const until = Date.now() + 20_000; clicks === 0 && Date.now() < until; ) {
      clicks = (await api<{ clicks: { total: number } }>('GET', '/v1/campaigns/image/stats')).clicks.total
      if (clicks === 0) await new Promise((r) => setTimeout(r, 100))
    }
    expect(clicks).toBe(1)
  }, 60_000)

  it('stops cleanly on SIGTERM (docker stop)', async () => {
    proc.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 30_000)
})
