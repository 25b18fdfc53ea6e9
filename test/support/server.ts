import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AppDeps } from '../../src/deps.js'
import { parseConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import { createServer } from '../../src/server.js'
import type { EventStore } from '../../src/store/clickhouse.js'
import type { MetaStore } from '../../src/store/meta.js'
import { testEventStore, testMetaStore } from './stores.js'

export const ADMIN_KEY = 'test-admin-key-0123456789'

export interface TestServer {
  url: string
  deps: AppDeps
  /** JSON request with the admin key; returns status, headers and parsed body. */
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>
  /** Waits until everything journaled is in ClickHouse. */
  flush(): Promise<void>
  stop(): Promise<void>
}

export interface TestServerOptions {
  env?: Record<string, string>
  events?: EventStore
  meta?: MetaStore
  dataDir?: string
  beforeInsert?: () => void
  clock?: () => number
}

/** The real app on the real embedded stores, listening on a loopback port. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'sillage-test-'))
  const config = parseConfig({
    DATA_DIR: dataDir,
    TRACKER_ADMIN_KEY: ADMIN_KEY,
    FLUSH_INTERVAL_MS: '50',
    FSYNC_INTERVAL_MS: '0',
    PORT: '0',
    // The tests' shop: redirects decorate (UTM, click id) only the sender's own domains.
    OWN_DOMAINS: 'shop.example',
    ...opts.env,
  })
  const events = opts.events ?? testEventStore()
  const meta = opts.meta ?? (await testMetaStore())
  const deps = await startRuntime({ config, events, meta, log: createLogger(process.env.TEST_LOG ? 'debug' : 'silent'), beforeInsert: opts.beforeInsert, clock: opts.clock })
  const { server } = createServer(deps)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // Tracked URLs must point at this server.
  deps.config.publicBaseUrl = url
  return {
    url,
    deps,
    async api(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed as never, headers: res.headers }
    },
    async flush() {
      await deps.writer.flush()
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await deps.stop()
      if (!opts.meta) await meta.close()
    },
  }
}

/** A real desktop browser: what a person clicking in webmail sends (Node's own fetch UA is classed as a bot). */
export const BROWSER_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/** Fetches a tracked URL as a reader's browser would, without following the redirect. */
export function readerFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...init, headers: { 'user-agent': BROWSER_UA, ...(init.headers as Record<string, string> | undefined) } })
}

/** A reader's click on a tracked URL: the 302, and the click id its Location carries (`sl_cid`), or null. */
export async function readerClick(url: string): Promise<string | null> {
  const r = await readerFetch(url, { headers: { accept: 'text/html', 'accept-language': 'fr' } })
  if (r.status !== 302) throw new Error(`click on ${url}: ${r.status}, not 302`)
  return new URL(r.headers.get('location')!).searchParams.get('sl_cid')
}
