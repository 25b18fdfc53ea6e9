import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEQ_ROW_BITS } from '../../src/events/sequence.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { readerFetch, startTestServer, type TestServer } from '../support/server.js'

let s: TestServer
let failures = 0
const dataDir = mkdtempSync(join(tmpdir(), 'sillage-seq-'))

beforeAll(async () => {
  s = await startTestServer({ dataDir, beforeInsert: () => {
    if (failures > 0) {
      failures--
      throw new Error('store down')
    }
  } })
})
afterAll(async () => {
  await s.stop()
})

describe('events.seq', () => {
  it('a batch keeps its number through a failed insert, and a reader never passes it meanwhile', async () => {
    await s.api('POST', '/v1/campaigns', { name: 'Seq', id: 'seqc' })
    await s.api('POST', '/v1/campaigns/seqc/links', { url: 'https://shop.example/' })
    const sends = await s.api('POST', '/v1/campaigns/seqc/sends', { recipients: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] })
    await s.flush()
    const before = s.deps.sequence.committed
    // Every attempt fails until the store is back (the writer's own retries included).
    failures = Infinity
    for (const r of sends.body.recipients) expect((await readerFetch(r.links[0].url)).status).toBe(302)
    await expect(s.flush()).rejects.toThrow(/store down/)
    const pending = JSON.parse(readFileSync(join(dataDir, 'journal', 'checkpoint.json'), 'utf8')).pending
    expect(typeof pending.batch).toBe('number')
    // In flight: the stream's bound stays below it.
    expect(s.deps.sequence.committed).toBe(before)
    failures = 0
    await s.flush()
    const rows = await queryRows<{ seq: number }>(s.deps.events, `SELECT seq FROM ${s.deps.events.db}.events WHERE campaign_id = 'seqc' AND type = 'click'`)
    expect(rows).toHaveLength(3)
    expect(new Set(rows.map((r) => Number(r.seq))).size).toBe(3)
    // The failed batch was stored under the number recorded before its first attempt (clicks journaled after it make later batches).
    const batches = rows.map((r) => Math.floor(Number(r.seq) / 2 ** SEQ_ROW_BITS))
    expect(batches).toContain(pending.batch)
    for (const b of batches) expect(b).toBeGreaterThanOrEqual(pending.batch)
    expect(s.deps.sequence.committed).toBeGreaterThanOrEqual(Math.max(...rows.map((r) => Number(r.seq))))
  })
})
