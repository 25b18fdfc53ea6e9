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

  it('are marked after the answer: the next page comes first, a page read again waits for the marks, each exit counted once', async () => {
    now = T0 + 2 * 3600_000
    await s.api('POST', '/v1/sequences', { id: 'q', name: 'Deferred', steps: [{ id: 's1', campaignId: 'm1', offset: 'P0D' }, { id: 's2', campaignId: 'm2', offset: 'P1D' }] })
    const ids = ['q1', 'q2', 'q3', 'q4']
    await s.api('POST', '/v1/sequences/q/enrollments', { recipients: ids.map((id, k) => ({ id, enteredAt: new Date(T0 + k * 60_000).toISOString() })) })
    // q1 unsubscribed everywhere, q3 from its step's campaign, q4 from another step's (stays due now).
    await s.api('POST', '/v1/suppressions', {
      suppressions: [
        { recipientId: 'q1', reason: 'unsubscribe' },
        { recipientId: 'q3', reason: 'complaint', scope: 'm1' },
        { recipientId: 'q4', reason: 'unsubscribe', scope: 'm2' },
      ],
    })
    const status = async () =>
      ((await s.deps.meta.db.execute(sql`SELECT recipient_id, status FROM sequence_enrollments WHERE sequence_id = 'q' ORDER BY recipient_id`)) as unknown as { rows: Array<{ recipient_id: string; status: string }> }).rows.map(
        (r) => `${r.recipient_id}:${r.status}`,
      )
    const page = async (extra: string) => (await s.api('GET', `/v1/sequences/q/due?until=${encodeURIComponent(new Date(now).toISOString())}${extra}`)).body
    const first = await page('&limit=1')
    expect(first.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['q2'])
    expect(first.skipped).toEqual({ converted: 0, unsubscribed: 1, suppressed: 0, erased: 0 })
    const second = await page(`&limit=5&cursor=${first.next}`)
    expect(second.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['q4'])
    expect(second.skipped).toEqual({ converted: 0, unsubscribed: 0, suppressed: 1, erased: 0 })
    // The walk went on before either page's exits were marked (that happens once due is quiet).
    expect(await status()).toEqual(['q1:active', 'q2:active', 'q3:active', 'q4:active'])
    // Read again from the start: marked first, so listed by neither call and counted by the first only.
    const again = await page('&limit=5')
    expect(again.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['q2', 'q4'])
    expect(again.skipped).toEqual({ converted: 0, unsubscribed: 0, suppressed: 0, erased: 0 })
    expect(await status()).toEqual(['q1:exited', 'q2:active', 'q3:exited', 'q4:active'])
    expect((await s.api('GET', '/v1/sequences/q/enrollments/q3')).body.exit).toMatchObject({ reason: 'suppressed', stepId: 's1' })
    const f = (await s.api('GET', '/v1/sequences/q/funnel')).body
    expect(f).toMatchObject({ entered: 4, active: 2, exited: 2 })
    expect(f.steps[0]).toMatchObject({ stepId: 's1', skipped: { unsubscribed: 1, suppressed: 1 } })
  })

  it('a writer marks the queued exits before it writes: a re-entry right after due is a new entry, not exited', async () => {
    await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'q2', reason: 'hard_bounce' }] })
    const p = (await s.api('GET', `/v1/sequences/q/due?until=${encodeURIComponent(new Date(now).toISOString())}`)).body
    expect(p.skipped).toEqual({ converted: 0, unsubscribed: 0, suppressed: 1, erased: 0 })
    await s.api('DELETE', '/v1/suppressions/q2')
    now += 60_000
    expect((await s.api('POST', '/v1/sequences/q/enrollments', { recipients: [{ id: 'q2' }], reenter: true })).body).toMatchObject({ reentered: 1 })
    await catchUpSequenceMirror(s.deps)
    expect((await s.api('GET', '/v1/sequences/q/enrollments/q2')).body).toMatchObject({ status: 'active' })
    const h = await queryRows<{ status: string; exit_reason: string }>(
      s.deps.events,
      `SELECT status, exit_reason FROM ${s.deps.events.db}.sequence_enrollments FINAL WHERE sequence_id = 'q' AND recipient_id = 'q2' ORDER BY entered_at`,
    )
    expect(h).toEqual([{ status: 'exited', exit_reason: 'suppressed' }, { status: 'active', exit_reason: '' }])
  })
})
