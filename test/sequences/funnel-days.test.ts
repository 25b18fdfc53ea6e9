import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { funnelDaysMargin } from '../../src/store/sequence-funnel-days.js'
import { startTestServer, type TestServer } from '../support/server.js'

// The funnel's days kept (migration 3900) answer as the entries themselves: who reached a step's time
// on the day it falls in (the clock moves, nothing is written), from/to inside a day, a sequence
// deleted and created again with the same id. (Writes after a read: the other funnel tests, margin 0.)
const HOUR = 3600_000
const T0 = Date.parse('2026-11-02T09:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()
let now = T0
let s: TestServer

const funnel = async (query = '') => {
  const r = await s.api('GET', `/v1/sequences/days/funnel?cohort=day${query}`)
  expect(r.status).toBe(200)
  return { entered: r.body.entered, due: r.body.steps.map((x: { due: number }) => x.due), cohorts: r.body.cohorts.map((c: { cohort: string; entered: number }) => `${c.cohort}:${c.entered}`) }
}
const create = async () => {
  const steps = [{ id: 's1', campaignId: 'k1', offset: 'P0D' }, { id: 's2', campaignId: 'k2', offset: 'PT6H' }]
  expect((await s.api('POST', '/v1/sequences', { id: 'days', name: 'Days', steps })).status).toBe(201)
}

beforeAll(async () => {
  funnelDaysMargin.seconds = 0
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  for (const c of ['k1', 'k2']) expect((await s.api('POST', '/v1/campaigns', { id: c, name: c })).status).toBe(201)
  await create()
  // a the day before; b, c and d on 2 November at 04:00, 08:00 and 09:00.
  const recipients = [['a', T0 - 10 * HOUR], ['b', T0 - 5 * HOUR], ['c', T0 - HOUR], ['d', T0]] as const
  expect((await s.api('POST', '/v1/sequences/days/enrollments', { recipients: recipients.map(([id, at]) => ({ id, enteredAt: iso(at) })) })).body.enrolled).toBe(4)
})
afterAll(async () => {
  await s.stop()
})

describe('funnel days', () => {
  it("counts who reached a step's time inside the day it falls in, as the clock moves", async () => {
    // Step 2 is due 6 h after entry: at 09:00 for entries up to 03:00, so only a.
    expect(await funnel()).toEqual({ entered: 4, due: [4, 1], cohorts: ['2026-11-01:1', '2026-11-02:3'] })
    now = T0 + 2 * HOUR
    expect(await funnel()).toEqual({ entered: 4, due: [4, 2], cohorts: ['2026-11-01:1', '2026-11-02:3'] })
    // At 14:00, entries up to 08:00: c too, not d.
    now = T0 + 5 * HOUR
    expect(await funnel()).toEqual({ entered: 4, due: [4, 3], cohorts: ['2026-11-01:1', '2026-11-02:3'] })
  })

  it('counts the entries inside from/to when they cut a day', async () => {
    expect(await funnel(`&from=${iso(T0 - 4.5 * HOUR)}`)).toEqual({ entered: 2, due: [2, 1], cohorts: ['2026-11-02:2'] })
    expect(await funnel(`&from=2026-11-01T00:00:00Z&to=${iso(T0 - 0.5 * HOUR)}`)).toEqual({ entered: 3, due: [3, 3], cohorts: ['2026-11-01:1', '2026-11-02:2'] })
    expect(await funnel(`&from=${iso(T0 - 6 * HOUR)}&to=${iso(T0 - 0.5 * HOUR)}`)).toEqual({ entered: 2, due: [2, 2], cohorts: ['2026-11-02:2'] })
  })

  it('a sequence deleted and created again with the same id starts empty', async () => {
    expect((await s.api('DELETE', '/v1/sequences/days')).status).toBe(204)
    await create()
    expect(await funnel()).toEqual({ entered: 0, due: [0, 0], cohorts: [] })
    expect((await s.api('POST', '/v1/sequences/days/enrollments', { recipients: [{ id: 'e', enteredAt: iso(T0) }] })).body.enrolled).toBe(1)
    expect(await funnel()).toEqual({ entered: 1, due: [1, 0], cohorts: ['2026-11-02:1'] })
  })
})
