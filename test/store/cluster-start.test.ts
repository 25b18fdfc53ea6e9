import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventStore } from '../../src/store/clickhouse.js'
import { checkClickHouse, StartupError } from '../../src/store/clickhouse-check.js'
import { exclusive } from '../../src/store/exclusive.js'
import { createMetaStore } from '../../src/store/meta.js'
import { startClickHouseHttpDouble, type ClickHouseHttpDouble } from '../support/clickhouse-http-double.js'
import { scratchDatabase } from '../support/postgres.js'

const PG_URL = process.env.TEST_DATABASE_URL
let double: ClickHouseHttpDouble
beforeAll(async () => {
  double = await startClickHouseHttpDouble()
})
afterAll(async () => {
  await double.close()
})

describe('start-up checks of the event store', () => {
  it('names the variable to check when the server does not answer, without a stack', async () => {
    const store = createEventStore({ url: 'http://127.0.0.1:9', database: 'x', path: '', requestTimeoutMs: 2_000 })
    const err = await checkClickHouse(store, { url: 'http://127.0.0.1:9' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StartupError)
    expect((err as Error).message).toMatch(/^ClickHouse at http:\/\/127\.0\.0\.1:9 does not answer \(.*ECONNREFUSED.*\): check CLICKHOUSE_URL/)

    const run = promisify(execFile)
    const out = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DATA_DIR: mkdtempSync(join(tmpdir(), 'sillage-start-')), CLICKHOUSE_URL: 'http://127.0.0.1:9', PORT: '0', CLICKHOUSE_REQUEST_TIMEOUT_MS: '2000' },
    }).catch((e: { code: number; stderr: string }) => e)
    expect((out as { code: number }).code).toBe(1)
    const stderr = (out as { stderr: string }).stderr.trim()
    expect(stderr).toMatch(/^sillage: ClickHouse at http:\/\/127\.0\.0\.1:9 does not answer .* check CLICKHOUSE_URL/)
    expect(stderr.split('\n')).toHaveLength(1)
  }, 60_000)

  it('refuses a cluster name the server does not have, and the embedded engine as a cluster', async () => {
    const store = createEventStore({ url: double.url, database: 'x', path: '', cluster: 'events_cluster' })
    await expect(checkClickHouse(store, { url: double.url })).rejects.toThrow(/CLICKHOUSE_CLUSTER=events_cluster is not a cluster of this server \(system.clusters has: none\)/)
    const single = createEventStore({ url: double.url, database: 'x', path: '' })
    await checkClickHouse(single, { url: double.url })
    expect(single.ddl).toEqual({ cluster: undefined })
  })
})

describe.skipIf(!PG_URL)('one instance at a time (PostgreSQL advisory locks)', () => {
  it('skips periodic work another instance is doing, and serialises migrations', async () => {
    const db = await scratchDatabase(PG_URL!, 'exclusive')
    const a = await createMetaStore({ url: db.url, path: '' })
    const b = await createMetaStore({ url: db.url, path: '' })
    try {
      let release!: () => void
      const held = new Promise<void>((r) => (release = r))
      const first = exclusive(a, 'pass', () => held.then(() => 'a'), { wait: false })
      await new Promise((r) => setTimeout(r, 200))
      expect(await exclusive(b, 'pass', async () => 'b', { wait: false })).toEqual({ ran: false })
      // A lock of another name is free.
      expect(await exclusive(b, 'other', async () => 'b', { wait: false })).toEqual({ ran: true, value: 'b' })
      const order: string[] = []
      const waiting = exclusive(b, 'pass', async () => order.push('b'), { wait: true })
      await new Promise((r) => setTimeout(r, 200))
      order.push('a done')
      release()
      expect(await first).toEqual({ ran: true, value: 'a' })
      await waiting
      expect(order).toEqual(['a done', 'b'])
    } finally {
      await a.close()
      await b.close()
      await db.drop()
    }
  })
})
