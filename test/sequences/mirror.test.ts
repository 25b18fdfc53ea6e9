import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { catchUpSequenceMirror } from '../../src/services/sequences.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { funnelDaysMargin } from '../../src/store/sequence-funnel-days.js'

// The exits `due` marks reach ClickHouse's sequence_enrollments (what the funnel and the timeline
// read) after its answer, from the rows queued in sequence_mirror_pending by the marking statement.
const T0 = Date.parse('2026-11-02T09:00:00.000Z')
let now = T0
let s: TestServer

const pending = async () =>
  ((await s.deps.meta.db.execute(sql`SELECT recipient_id, exit_reason FROM sequence_mirror_pending ORDER BY recipient_id`)) as unknown as { rows: Array<{ recipient_id: string; exit_reason: string }> }).rows
const mirrored = (recipientId: string) =>
  queryRows<{ status: string; exit_reason: string; exit_step_id: string }>(
    s.deps.events,
    `SELECT status, exit_reason, exit_step_id FROM ${s.deps.events.db}.sequence_enrollments FINAL WHERE sequence_id = 'm' AND recipient_id = {r:String}`,
    { r: recipientId },
  )

beforeAll(async () => {
  // Reads right after writes: the funnel's days show them only through their marks (no margin to hide a missing one).
  funnelDaysMargin.seconds = 0
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  await s.api('POST', '/v1/campaigns', { id: 'm1', name: 'Step 1' })
  await s.api('POST', '/v1/campaigns', { id: 'm2', name: 'Step 2' })
  const made = await s.api('POST', '/v1/sequences', { id: 'm', name: 'Mirror', steps: [{ id: 's1', campaignId: 'm1', offset: 'P0D' }, { id: 's2', campaignId: 'm2', offset: 'P1D' }] })
  expect(made.status).toBe(201)
  expect((await s.api('POST', '/v1/sequences/m/enrollments', { recipients: ['a', 'b', 'c', 'd'].map((id) => ({ id })) })).body.enrolled).toBe(4)
})
afterAll(async () => {
  await s.stop()
})

describe('the exits of due in ClickHouse', () => {
  it('are written before the funnel and the timeline read them, and the queue emptied', async () => {
    now = T0 + 3600_000
    await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'b', reason: 'unsubscribe' }, { recipientId: 'c', reason: 'hard_bounce' }] })
    const page = (await s.api('GET', `/v1/sequences/m/due?until=${encodeURIComponent(new Date(now).toISOString())}`)).body
    expect(page.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['a', 'd'])
    expect(page.skipped).toEqual({ converted: 0, unsubscribed: 1, suppressed: 1, erased: 0 })
    // Written to ClickHouse after the answer (once due is quiet for a moment), or before this read.
    const f = (await s.api('GET', '/v1/sequences/m/funnel')).body
    expect(f).toMatchObject({ entered: 4, active: 2, exited: 2 })
    expect(f.steps[0]).toMatchObject({ stepId: 's1', skipped: { unsubscribed: 1, suppressed: 1 }, exited: 2 })
    expect(await pending()).toEqual([])
    expect(await mirrored('c')).toEqual([{ status: 'exited', exit_reason: 'suppressed', exit_step_id: 's1' }])
    // The timeline reads the same mirror.
    const t = (await s.api('GET', '/v1/recipients/b/timeline')).body
    expect(t.sequences).toMatchObject([{ sequenceId: 'm', status: 'exited', exit: { reason: 'unsubscribed', stepId: 's1', at: new Date(now).toISOString() } }])
  })

  it('writes rows left queued by a crash, and never brings back an erased recipient', async () => {
    // What a process stopped between the marking and the catch-up leaves: the exit and its queued row.
    await s.deps.meta.db.execute(sql`UPDATE sequence_enrollments SET status = 'exited', exit_reason = 'removed', exit_step_id = 's1', exited_at = now(), due_at = NULL WHERE recipient_id = 'd'`)
    await s.deps.meta.db.execute(sql`
      INSERT INTO sequence_mirror_pending (sequence_id, recipient_id, entered_at, status, exit_reason, exit_step_id, exited_at, version)
      SELECT sequence_id, recipient_id, entered_at, status, exit_reason, exit_step_id, exited_at, ${now + 1} FROM sequence_enrollments WHERE recipient_id = 'd'`)
    expect(await mirrored('d')).toEqual([{ status: 'active', exit_reason: '', exit_step_id: '' }])
    // An erasure whose ClickHouse delete ran while a catch-up had already read a queued row of theirs.
    expect((await s.api('DELETE', '/v1/recipients/a')).status).toBe(200)
    expect(await mirrored('a')).toEqual([])
    await s.deps.meta.db.execute(sql`
      INSERT INTO sequence_mirror_pending (sequence_id, recipient_id, entered_at, status, exit_reason, exit_step_id, exited_at, version)
      VALUES ('m', 'a', ${new Date(T0).toISOString()}::timestamptz, 'exited', 'erased', 's1', now(), ${now + 1})`)
    await catchUpSequenceMirror(s.deps)
    expect(await mirrored('d')).toEqual([{ status: 'exited', exit_reason: 'removed', exit_step_id: 's1' }])
    expect(await mirrored('a')).toEqual([])
    expect(await pending()).toEqual([])
    expect((await s.api('GET', '/v1/sequences/m/funnel')).body).toMatchObject({ entered: 3, active: 0, exited: 3 })
  })
})
