import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { seedMetaDir } from '../support/meta-seed.js'
import { ADMIN_KEY, ROOT, startChild, type Child } from './child.js'

/*
 * The API over HTTP answers the same in the default cluster layout (a primary and edge workers
 * forwarding to it) as in one process (WORKERS=1): the server as a real process, each mode in turn.
 */
// One data directory for both modes, in turn: the metadata store is initialised once (the slow part).
const dir = mkdtempSync(join(tmpdir(), 'sillage-cluster-http-'))
let current: Child | null = null
afterAll(() => {
  // A failed test must not leave a server behind.
  if (current && current.proc.exitCode === null) process.kill(-current.proc.pid!, 'SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/**
 * A POST announcing a `bytes`-long body by Content-Length, headers only: the server judges the
 * length before any body arrives. (Writing the whole body raced the server's close: with body bytes
 * still unread on its side the close is a reset, which can discard the 413 before it is read; see
 * the closing note.)
 */
function postBody(url: string, path: string, bytes: number): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'content-length': bytes } }, (res) => {
      res.resume()
      resolve({ status: res.statusCode!, connection: res.headers.connection })
      req.destroy()
    })
    req.on('error', reject)
    req.flushHeaders()
  })
}

/** POSTs `bytes` of body, all of it, whatever the server answers meanwhile: `status code` or the socket error's code. */
function postWhole(url: string, path: string, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const u = new URL(url)
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'content-length': bytes } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve(`${res.statusCode} ${(JSON.parse(body) as { error: { code: string } }).error.code}`))
    })
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
}

/** One raw HTTP/1.0 exchange: everything the server wrote until it closed (the test fails if it does not close). */
function http10(url: string, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const sock = connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    sock.on('data', (d) => chunks.push(d))
    sock.on('error', reject)
    sock.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    sock.setTimeout(4_000, () => sock.destroy(new Error('HTTP/1.0 connection still open after 4 s')))
    sock.write(head)
  })
}

for (const [mode, env] of [
  ['single process (WORKERS=1)', { WORKERS: '1' }],
  ['cluster (WORKERS=2)', { WORKERS: '2' }],
] as const) {
  describe(`API over HTTP, ${mode}`, () => {
    let c: Child
    it('starts', async () => {
      // A first start initialises the metadata store: slow on a loaded machine.
      c = current = await startChild(dir, { ...env, MAX_BODY_BYTES: String(1024 * 1024) }, true, 150_000)
      if (env.WORKERS === '1') await c.api('POST', '/v1/campaigns', { id: 'h', name: 'H' })
    }, 180_000)

    it('an over-limit body with Content-Length is a 413, and the connection is closed', async () => {
      const r = await postBody(c.url, '/v1/campaigns/h/sends', 3 * 1024 * 1024)
      expect(r).toEqual({ status: 413, connection: 'close' })
      // The server still answers.
      expect((await fetch(c.url + '/healthz')).status).toBe(200)
    })

    it('a client that keeps writing an over-limit body still reads its 413 (the server drains before it closes)', async () => {
      // 24 MB against a 1 MB limit, written whole as fast as loopback takes it: closing with the rest
      // unread resets the connection, and the client saw EPIPE or ECONNRESET (3 in 10), not the answer.
      const outcomes: string[] = []
      for (let i = 0; i < 8; i++) outcomes.push(await postWhole(c.url, '/v1/campaigns/h/sends', 24 * 1024 * 1024))
      expect(outcomes).toEqual(Array(8).fill('413 payload_too_large'))
    })

    it('HTTP/1.0: no chunked encoding, no keep-alive, the connection closed after the answer', async () => {
      const text = await http10(c.url, `GET /v1/campaigns HTTP/1.0\r\nHost: sillage\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n\r\n`)
      const [head, body] = text.split('\r\n\r\n', 2) as [string, string]
      expect(head).toMatch(/^HTTP\/1\.[01] 200 /)
      expect(head).not.toMatch(/^transfer-encoding:/im)
      expect(head).not.toMatch(/^connection: keep-alive/im)
      expect(head).not.toMatch(/^keep-alive:/im)
      expect(JSON.parse(body).campaigns.map((x: { id: string }) => x.id)).toContain('h')
    })

    it('client mistakes are 400s naming the field, as in the other mode', async () => {
      const r = await fetch(c.url + '/v1/campaigns/h/sends', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: '{"recipients":[{"id":"\\ud800"}]}',
      })
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/^body\.recipients\.0\.id: /)
    })

    it('stops', async () => {
      c.proc.kill('SIGTERM')
      expect((await c.exited).code).toBe(0)
    }, 30_000)
  })
}

describe('a signal while the server starts', () => {
  it('stops it cleanly once started (exit 0), instead of killing it half-started', async () => {
    // The stores are open (ClickHouse migrated), the workers not yet listening: the moment a
    // first worker may already answer while the primary has not finished starting.
    const d = mkdtempSync(join(tmpdir(), 'sillage-early-signal-'))
    seedMetaDir(d)
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: d, PORT: '0', HOST: '127.0.0.1', WORKERS: '2', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })))
    let log = ''
    let signalled = false
    proc.stderr!.on('data', (b: Buffer) => {
      log += b.toString()
      if (!signalled && log.includes('"clickhouse_migrated"')) {
        signalled = true
        proc.kill('SIGTERM')
      }
    })
    try {
      expect(await exited).toEqual({ code: 0, signal: null })
      expect(log).toContain('"msg":"stopped"')
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid!, 'SIGKILL')
      rmSync(d, { recursive: true, force: true })
    }
  }, 120_000)
})
