import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEventStore } from '../../src/store/clickhouse.js'
import { clickFixture, clickLoad, startChild, type Child } from './child.js'

/*
 * The server as a real process, on one data directory: kill -9 under load (single process, then
 * cluster mode), restarts, a graceful SIGTERM under load; then every acknowledged click must be in
 * ClickHouse exactly once. ClickHouse is opened here only at the end (chDB: one process per directory).
 */
const dataDir = mkdtempSync(join(tmpdir(), 'sillage-reliability-'))
const outcomes: Record<string, { acked: string[]; failed: string[] }> = {}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

async function crashUnderLoad(c: Child, campaign: string, killAfter: number) {
  const targets = await clickFixture(c, campaign, 2500)
  let killed = false
  const result = await clickLoad(c.url, targets, 32, (acked) => {
    if (acked >= killAfter && !killed) {
      killed = true
      // The whole process group: in cluster mode the primary and every worker die at once.
      process.kill(-c.proc.pid!, 'SIGKILL')
    }
    return killed
  })
  expect((await c.exited).signal).toBe('SIGKILL')
  outcomes[campaign] = result
  return result
}

describe('crash, restart and shutdown under load', () => {
  it('kill -9 of a single process: acknowledged clicks survive', async () => {
    const c = await startChild(dataDir, { WORKERS: '1' }, true)
    const r = await crashUnderLoad(c, 'crash-single', 600)
    expect(r.acked.length).toBeGreaterThanOrEqual(600)
  }, 90_000)

  it('kill -9 of a cluster (primary and 2 workers): acknowledged clicks survive', async () => {
    const c = await startChild(dataDir, { WORKERS: '2' }, true)
    const r = await crashUnderLoad(c, 'crash-cluster', 600)
    expect(r.acked.length).toBeGreaterThanOrEqual(600)
  }, 90_000)

  it('SIGTERM under load: in-flight requests answered, journal flushed, exit 0', async () => {
    const c = await startChild(dataDir, { WORKERS: '1' }, true)
    const targets = await clickFixture(c, 'sigterm', 2500)
    let signalled = false
    const result = await clickLoad(c.url, targets, 32, (acked) => {
      if (acked >= 400 && !signalled) {
        signalled = true
        c.proc.kill('SIGTERM')
      }
      return signalled && c.proc.exitCode !== null
    })
    expect(await c.exited).toEqual({ code: 0, signal: null })
    outcomes['sigterm'] = result
  }, 90_000)

  it('every acknowledged click is in ClickHouse exactly once', async () => {
    const store = createEventStore({ path: join(dataDir, 'clickhouse'), database: 'sillage' })
    try {
      for (const [campaign, { acked, failed }] of Object.entries(outcomes)) {
        const rows = (await (
          await store.client.query({
            query: `SELECT recipient_id, count() AS n, uniqExact(event_id) AS ids FROM sillage.events WHERE campaign_id = {c:String} AND type = 'click' GROUP BY recipient_id`,
            query_params: { c: campaign },
            format: 'JSONEachRow',
          })
        ).json()) as Array<{ recipient_id: string; n: number | string; ids: number | string }>
        const counts = new Map(rows.map((r) => [r.recipient_id, Number(r.n)]))
        const missing = acked.filter((id) => counts.get(id) !== 1)
        expect(missing, `${campaign}: acknowledged but not stored exactly once`).toEqual([])
        expect(rows.filter((r) => Number(r.n) !== 1 || Number(r.ids) !== 1), `${campaign}: duplicates`).toEqual([])
        // Anything else stored was in flight when the process died: journaled, response not received.
        const inFlight = new Set(failed)
        expect(rows.filter((r) => !acked.includes(r.recipient_id) && !inFlight.has(r.recipient_id))).toEqual([])
      }
      expect(Object.keys(outcomes).sort()).toEqual(['crash-cluster', 'crash-single', 'sigterm'])
    } finally {
      await store.close()
    }
  }, 60_000)
})
