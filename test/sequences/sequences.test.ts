import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyStoredConversions } from '../../src/services/sequences.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { signIn } from '../dashboard/seed.js'
import { ADMIN_KEY, readerFetch, startTestServer, type TestServer } from '../support/server.js'
import { funnelDaysMargin } from '../../src/store/sequence-funnel-days.js'

// A three-step welcome series on the real stores, driven by an injected clock.
const DAY = 86_400_000
const T0 = Date.parse('2026-11-02T09:00:00.000Z')
let now = T0
let s: TestServer
const links: Record<string, string> = {}

const iso = (ms: number) => new Date(ms).toISOString()
const due = async (until: number, extra = '') => (await s.api('GET', `/v1/sequences/welcome/due?until=${encodeURIComponent(iso(until))}${extra}`)).body
const dueIds = async (until: number) => (await due(until)).due.map((d: { recipientId: string; stepId: string }) => `${d.recipientId}:${d.stepId}`)
const send = (campaign: string, stepId: string, ids: string[]) =>
  s.api('POST', `/v1/campaigns/${campaign}/sends`, { recipients: ids.map((id) => ({ id })), sequence: { id: 'welcome', stepId } })
const sequenceCount = async () => (await s.api('GET', '/v1/sequences')).body.total

beforeAll(async () => {
  // Reads right after writes: the funnel's days show them only through their marks (no margin to hide a missing one).
  funnelDaysMargin.seconds = 0
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  for (const c of ['w1', 'w2', 'w3']) {
    await s.api('POST', '/v1/campaigns', { id: c, name: `Welcome ${c}` })
    links[c] = (await s.api('POST', `/v1/campaigns/${c}/links`, { url: `https://shop.example/${c}` })).body.id
  }
  await s.api('POST', '/v1/campaigns', { id: 'other', name: 'Other' })
  await s.api('POST', '/v1/suppressions', { suppressions: [{ recipientId: 'bounced', reason: 'hard_bounce' }] })
  expect((await s.api('DELETE', '/v1/recipients/gone')).status).toBe(200)
})
afterAll(async () => {
  await s.stop()
})

describe('definitions', () => {
  it('refuses bad steps with a 400 naming the field, and writes nothing', async () => {
    const step = (id: string, campaignId: string, offset: string) => ({ id, campaignId, offset })
    const cases: Array<[unknown[], RegExp]> = [
      [[step('s1', 'w1', 'P0D'), step('s2', 'nope', 'P3D')], /steps\.1\.campaignId: campaign nope does not exist/],
      [[step('s1', 'w1', 'P3D'), step('s2', 'w2', 'P1D')], /steps\.1\.offset: P1D is not after step s1's P3D/],
      [[step('s1', 'w1', 'P0D'), step('s1', 'w2', 'P3D')], /steps\.1\.id: step id s1 is used twice/],
      [[step('s1', 'w1', 'P0D'), step('s2', 'w1', 'P3D')], /steps\.1\.campaignId: campaign w1 is already step s1/],
      [[step('s1', 'w1', 'P1M')], /steps\.0\.offset: "P1M" is not an ISO-8601 duration/],
      [[step('s1', 'w1', '3 days')], /steps\.0\.offset/],
    ]
    for (const [steps, message] of cases) {
      const r = await s.api('POST', '/v1/sequences', { id: 'bad', name: 'Bad', steps })
      expect(r.status, JSON.stringify(steps)).toBe(400)
      expect(r.body.error.code).toBe('validation_failed')
      expect(r.body.error.message).toMatch(message)
    }
    const noGoal = await s.api('POST', '/v1/sequences', { id: 'bad', name: 'Bad', steps: [step('s1', 'w1', 'P0D')], exitOn: ['converted'] })
    expect(noGoal.status).toBe(400)
    expect(noGoal.body.error.message).toMatch(/needs a goal/)
    expect(await sequenceCount()).toBe(0)
  })

  it('creates the series, with the default exits, and refuses the same id twice', async () => {
    const body = {
      id: 'welcome',
      name: 'Welcome',
      steps: [
        { id: 's1', campaignId: 'w1', offset: 'P0D' },
        { id: 's2', campaignId: 'w2', offset: 'P3D' },
        { id: 's3', campaignId: 'w3', offset: 'P10D' },
      ],
      goal: { type: 'purchase', within: 'P14D' },
    }
    const r = await s.api('POST', '/v1/sequences', body)
    expect(r.status).toBe(201)
    expect(r.body.exitOn).toEqual(['converted', 'unsubscribed', 'suppressed'])
    expect(r.body.steps.map((x: { offsetMs: number }) => x.offsetMs)).toEqual([0, 3 * DAY, 10 * DAY])
    expect(r.body.goal).toEqual({ type: 'purchase', within: 'P14D', withinMs: 14 * DAY })
    expect((await s.api('POST', '/v1/sequences', body)).status).toBe(409)
    expect((await s.api('GET', '/v1/sequences/welcome')).body.enrollments).toEqual({ active: 0, completed: 0, exited: 0 })
    expect((await s.api('GET', '/v1/sequences/nope')).status).toBe(404)
  })
})

describe('enrolment, due, sends, exits', () => {
  it('enrols idempotently, skips the erased and the suppressed, and refuses a list with a repeated id whole', async () => {
    const twice = await s.api('POST', '/v1/sequences/welcome/enrollments', { recipients: [{ id: 'x' }, { id: 'y' }, { id: 'x' }] })
    expect(twice.status).toBe(400)
    expect(twice.body.error.message).toMatch(/recipients\.2\.id: x is listed twice/)
    const r = await s.api('POST', '/v1/sequences/welcome/enrollments', {
      recipients: ['a', 'b', 'c', 'd', 'e', 'bounced', 'gone'].map((id) => ({
        id,
        ...(id === 'a' ? { variant: 'A', segments: ['vip'] } : {}),
        // An attribute that looks like the boundary between two items of the page's text.
        ...(id === 'b' ? { attributes: { note: '},{"recipientId":"z", "k": 1}' } } : {}),
      })),
    })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      enrolled: 5,
      reentered: 0,
      unchanged: [],
      skipped: { count: 2, recipients: [{ id: 'bounced', reason: 'suppressed' }, { id: 'gone', reason: 'erased' }] },
    })
    const again = await s.api('POST', '/v1/sequences/welcome/enrollments', { recipients: [{ id: 'a' }, { id: 'b' }] })
    expect(again.body).toMatchObject({ enrolled: 0, unchanged: ['a', 'b'] })
    expect((await s.api('GET', '/v1/sequences/welcome')).body.enrollments).toEqual({ active: 5, completed: 0, exited: 0 })
    const big = await s.api('POST', '/v1/sequences/welcome/enrollments', { recipients: Array.from({ length: 10_001 }, (_, i) => ({ id: `r${i}` })) })
    expect(big.status).toBe(413)
  })

  it('makes everyone due for step 1 at entry, in due order, page by page', async () => {
    expect(await dueIds(T0 - 1)).toEqual([])
    const first = await due(T0, '&limit=2')
    expect(first.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['a', 'b'])
    expect(first.due[0]).toMatchObject({ stepId: 's1', campaignId: 'w1', dueAt: iso(T0), enteredAt: iso(T0), variant: 'A', segments: ['vip'] })
    const second = await due(T0, `&limit=2&cursor=${first.next}`)
    const third = await due(T0, `&limit=2&cursor=${second.next}`)
    expect([...second.due, ...third.due].map((d: { recipientId: string }) => d.recipientId)).toEqual(['c', 'd', 'e'])
    expect(third.next).toBeNull()
    expect((await due(T0, '&cursor=garbage')).error?.code).toBe('validation_failed')
  })

  it('marks a step sent once per recipient; a repeated send changes nothing', async () => {
    const wrong = await send('w2', 's1', ['a'])
    expect(wrong.status).toBe(400)
    expect(wrong.body.error.message).toMatch(/step s1 of sequence welcome is campaign w1, not w2/)
    expect((await send('w1', 'zz', ['a'])).status).toBe(400)
    const r = await send('w1', 's1', ['a', 'b', 'c', 'd', 'e', 'stranger'])
    expect(r.status).toBe(201)
    expect(r.body.sequence).toEqual({ id: 'welcome', stepId: 's1', marked: 5, alreadySent: [], notEnrolled: ['stranger'], notActive: [] })
    const repeat = await send('w1', 's1', ['a'])
    expect(repeat.body.sequence).toMatchObject({ marked: 0, alreadySent: ['a'] })
    expect(await dueIds(T0 + 3 * DAY - 1)).toEqual([])
    expect(await dueIds(T0 + 3 * DAY)).toEqual(['a:s2', 'b:s2', 'c:s2', 'd:s2', 'e:s2'])
    const [row] = await queryRows<{ n: number }>(s.deps.events, `SELECT count() AS n FROM ${s.deps.events.db}.sequence_sends FINAL WHERE step_id = 's1'`)
    expect(Number(row!.n)).toBe(5)
  })

  it('lets readers open and click, a scanner click, a purchase and an unsubscribe happen', async () => {
    const token = (r: string) => s.deps.tokens.sign('w1', r)
    now = T0 + 3600_000
    expect((await readerFetch(`${s.url}/o/w1/${token('a')}.gif`)).status).toBe(200)
    expect((await readerFetch(`${s.url}/c/${links.w1}/${token('a')}`)).status).toBe(302)
    // A mail gateway follows b's link: kept, labelled a machine, never a click of b's.
    expect((await readerFetch(`${s.url}/c/${links.w1}/${token('b')}`, { headers: { 'user-agent': 'Barracuda Sentinel (EE)' } })).status).toBe(302)
    now = T0 + DAY
    const bought = await s.api('POST', '/v1/conversions', { orderId: 'o-c', recipientId: 'c', amount: '20.00', currency: 'EUR' })
    expect(bought.status).toBe(201)
    // A purchase of another kind is not the goal.
    expect((await s.api('POST', '/v1/conversions', { orderId: 'o-e', recipientId: 'e', type: 'signup' })).status).toBe(201)
    now = T0 + 2 * DAY
    const un = await fetch(`${s.url}/u/w1/${token('d')}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })
    expect(un.status).toBe(200)
    await s.flush()
  })

  it('at step 2 lists neither the buyer nor the unsubscribed, counts them once, and never again', async () => {
    now = T0 + 3 * DAY
    const page = await due(now)
    expect(page.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['a', 'b', 'e'])
    expect(page.skipped).toEqual({ converted: 1, unsubscribed: 1, suppressed: 0, erased: 0 })
    const again = await due(now + 30 * DAY)
    expect(again.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['a', 'b', 'e'])
    expect(again.skipped).toEqual({ converted: 0, unsubscribed: 0, suppressed: 0, erased: 0 })
    // The items kept on a page with exits are those of a page without: cut apart, not rewritten.
    expect(page.due).toEqual(again.due)
    expect(page.due[1]).toMatchObject({ recipientId: 'b', attributes: { note: '},{"recipientId":"z", "k": 1}' } })
    expect((await s.api('GET', '/v1/sequences/welcome/enrollments/c')).body).toMatchObject({
      status: 'exited',
      exit: { reason: 'converted', stepId: 's2', at: iso(T0 + DAY) },
    })
    expect((await s.api('GET', '/v1/sequences/welcome/enrollments/d')).body.exit).toMatchObject({ reason: 'unsubscribed', stepId: 's2' })
    // A send to someone who left is recorded as a send, never as the step.
    expect((await send('w2', 's2', ['a', 'b', 'c'])).body.sequence).toMatchObject({ marked: 2, notActive: ['c'] })
  })

  it('exits only on what exitOn names: without a goal a buyer stays due; the unsubscribed are not enrolled', async () => {
    const made = await s.api('POST', '/v1/sequences', { id: 'nogoal', name: 'No goal', steps: [{ id: 'n1', campaignId: 'other', offset: 'PT1H' }] })
    expect(made.body.exitOn).toEqual(['unsubscribed', 'suppressed'])
    const r = await s.api('POST', '/v1/sequences/nogoal/enrollments', { recipients: [{ id: 'c' }, { id: 'd' }, { id: 'late', enteredAt: iso(now + 2 * DAY) }] })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toMatch(/recipients\.2\.enteredAt: more than a day in the future/)
    const ok = await s.api('POST', '/v1/sequences/nogoal/enrollments', { recipients: [{ id: 'c' }, { id: 'd' }] })
    expect(ok.body).toMatchObject({ enrolled: 1, skipped: { count: 1, recipients: [{ id: 'd', reason: 'unsubscribed' }] } })
    const page = (await s.api('GET', `/v1/sequences/nogoal/due?until=${encodeURIComponent(iso(now + 3600_000))}`)).body
    expect(page.due.map((x: { recipientId: string }) => x.recipientId)).toEqual(['c'])
    // A funnel without a goal: nobody converted, whatever they bought.
    const f = (await s.api('GET', '/v1/sequences/nogoal/funnel')).body
    expect(f).toMatchObject({ goal: null, entered: 1, active: 1, converted: 0, medianEntryToConversionMs: null })
    expect(f.steps[0]).toMatchObject({ stepId: 'n1', sent: 0, converted: 0 })
    expect((await s.api('DELETE', '/v1/sequences/nogoal')).status).toBe(204)
  })

  it('at step 3 lists those due in due order; a removed recipient is never due again', async () => {
    now = T0 + 10 * DAY
    expect(await dueIds(now)).toEqual(['e:s2', 'a:s3', 'b:s3'])
    const removed = await s.api('DELETE', '/v1/sequences/welcome/enrollments/e')
    expect(removed.body).toMatchObject({ status: 'exited', exit: { reason: 'removed', stepId: 's2', at: iso(now) } })
    expect(await dueIds(now)).toEqual(['a:s3', 'b:s3'])
    expect((await s.api('DELETE', '/v1/sequences/welcome/enrollments/zed')).status).toBe(404)
  })
})

describe('funnel', () => {
  it('counts each step by hand-computed expectations, people only by default', async () => {
    const f = (await s.api('GET', '/v1/sequences/welcome/funnel?cohort=day')).body
    expect(f).toMatchObject({ entered: 5, active: 2, completed: 0, exited: 3, converted: 1, traffic: 'human', cohortBy: 'day' })
    expect(f.conversion).toMatchObject({ numerator: 1, denominator: 5, value: 0.2 })
    expect(f.medianEntryToConversionMs).toBe(DAY)
    const [s1, s2, s3] = f.steps
    expect(s1).toMatchObject({ stepId: 's1', due: 5, sent: 5, exited: 0, pending: 0, opened: 1, clicked: 1, unsubscribed: 1, converted: 1, dropOff: 3 })
    expect(s1.medianSendToFirstClickMs).toBe(3600_000)
    expect(s1.rates.click).toMatchObject({ numerator: 1, denominator: 5, value: 0.2 })
    expect(s1.rates.click.interval.low).toBeGreaterThan(0.03)
    expect(s1.rates.click.interval.high).toBeLessThan(0.63)
    expect(s1.rates.continuation).toMatchObject({ numerator: 2, denominator: 5 })
    expect(s2).toMatchObject({ stepId: 's2', due: 5, sent: 2, skipped: { converted: 1, unsubscribed: 1, removed: 1 }, exited: 3, pending: 0, opened: 0, clicked: 0, dropOff: 2 })
    expect(s3).toMatchObject({ stepId: 's3', due: 2, sent: 0, pending: 2, dropOff: null })
    expect(f.cohorts).toHaveLength(1)
    expect(f.cohorts[0]).toMatchObject({ cohort: '2026-11-02', entered: 5 })
    const all = (await s.api('GET', '/v1/sequences/welcome/funnel?traffic=all')).body
    expect(all.steps[0]).toMatchObject({ clicked: 2, opened: 1 })
    // The scanner's click alone, with its own first-click time (the send to b at T0, the click an hour later).
    const machine = (await s.api('GET', '/v1/sequences/welcome/funnel?traffic=machine')).body
    expect(machine.steps[0]).toMatchObject({ sent: 5, opened: 0, clicked: 1, unsubscribed: 0, converted: 1, medianSendToFirstClickMs: 3600_000 })
    // An entry window around everyone's entry: the purchase a day after `to` still counts (the buyers' side reaches to + the goal's window).
    const around = (await s.api('GET', `/v1/sequences/welcome/funnel?from=${encodeURIComponent(iso(T0))}&to=${encodeURIComponent(iso(T0 + 1))}`)).body
    expect(around).toMatchObject({ entered: 5, converted: 1, medianEntryToConversionMs: DAY })
    expect(around.steps[0]).toMatchObject({ sent: 5, opened: 1, clicked: 1, converted: 1 })
    // An entry window after everyone's entry: nothing.
    const later = (await s.api('GET', `/v1/sequences/welcome/funnel?from=${encodeURIComponent(iso(T0 + 1))}`)).body
    expect(later).toMatchObject({ entered: 0, converted: 0, cohorts: [] })
    expect(later.steps[0]).toMatchObject({ sent: 0, opened: 0, clicked: 0 })
  })

  it('shows the funnel on the dashboard: the chart data, the steps side by side, the cohorts, names escaped', async () => {
    expect((await s.api('PATCH', '/v1/sequences/welcome', { name: '<b>Welcome</b>' })).status).toBe(200)
    const { cookie } = await signIn(s, ADMIN_KEY)
    const get = async (path: string) => (await fetch(s.url + path, { headers: { cookie } })).text()
    const list = await get('/dashboard/sequences')
    expect(list).toContain('&lt;b&gt;Welcome&lt;/b&gt;')
    expect(list).not.toContain('<b>Welcome</b>')
    const html = await get('/dashboard/sequences/welcome?cohort=day')
    const chart = /data-funnel="([^"]*)"/.exec(html)![1]!.replace(/&quot;/g, '"')
    expect(JSON.parse(chart)).toMatchObject({ due: [5, 5, 2], sent: [5, 2, 0], opened: [1, 0, 0], clicked: [1, 0, 0], converted: [1, 0, 0] })
    expect(html).toMatch(/<tr data-row="sent"><th scope="row">Sent<\/th><td class="num">5<\/td><td class="num">2<\/td><td class="num">0<\/td><\/tr>/)
    expect(html).toContain('converted 1, removed 1, unsubscribed 1')
    expect(html).toContain('<tr data-cohort="2026-11-02">')
    expect((await fetch(`${s.url}/dashboard/sequences/nope`, { headers: { cookie } })).status).toBe(404)
  })

  it('answers bad funnel queries with a 400', async () => {
    expect((await s.api('GET', '/v1/sequences/welcome/funnel?cohort=year')).status).toBe(400)
    expect((await s.api('GET', '/v1/sequences/welcome/funnel?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z')).status).toBe(400)
    expect((await s.api('GET', '/v1/sequences/nope/funnel')).status).toBe(404)
  })
})

describe('changes, timeline, erasure', () => {
  it('a change of steps moves what is ahead: step 3 later, a step already sent not sent again', async () => {
    const r = await s.api('PATCH', '/v1/sequences/welcome', {
      steps: [
        { id: 's1', campaignId: 'w1', offset: 'P0D' },
        { id: 's2', campaignId: 'w2', offset: 'P4D' },
        { id: 's3', campaignId: 'w3', offset: 'P12D' },
      ],
    })
    expect(r.status).toBe(200)
    // a and b were sent s2 at P3D: moving it to P4D does not make it theirs again.
    expect(r.body).toMatchObject({ rescheduled: 2, completed: 0 })
    expect(await dueIds(T0 + 12 * DAY - 1)).toEqual([])
    expect(await dueIds(T0 + 12 * DAY)).toEqual(['a:s3', 'b:s3'])
    expect((await send('w2', 's2', ['a'])).body.sequence).toMatchObject({ marked: 0, alreadySent: ['a'] })
    const bad = await s.api('PATCH', '/v1/sequences/welcome', { steps: [{ id: 's1', campaignId: 'w1', offset: 'P2D' }, { id: 's2', campaignId: 'w2', offset: 'P1D' }] })
    expect(bad.status).toBe(400)
    expect((await s.api('GET', '/v1/sequences/welcome')).body.steps.map((x: { offset: string }) => x.offset)).toEqual(['P0D', 'P4D', 'P12D'])
  })

  it('the timeline shows entry, steps sent and exit with its reason', async () => {
    const a = (await s.api('GET', '/v1/recipients/a/timeline')).body
    expect(a.sequences).toEqual([
      {
        sequenceId: 'welcome',
        enteredAt: iso(T0),
        status: 'active',
        steps: [
          { stepId: 's1', campaignId: 'w1', sentAt: iso(T0) },
          { stepId: 's2', campaignId: 'w2', sentAt: iso(T0 + 3 * DAY) },
        ],
        exit: null,
      },
    ])
    const c = (await s.api('GET', '/v1/recipients/c/timeline')).body
    expect(c.sequences[0]).toMatchObject({ status: 'exited', exit: { reason: 'converted', stepId: 's2', at: iso(T0 + DAY) } })
    // The person's profile: where they are in each sequence.
    expect((await s.api('GET', '/v1/recipients/a')).body.sequences).toEqual([
      { sequenceId: 'welcome', name: '<b>Welcome</b>', status: 'active', enteredAt: iso(T0), lastStep: { stepId: 's2', sentAt: iso(T0 + 3 * DAY) }, next: { stepId: 's3', dueAt: iso(T0 + 12 * DAY) }, exit: null },
    ])
    expect((await s.api('GET', '/v1/recipients/c')).body.sequences).toEqual([
      { sequenceId: 'welcome', name: '<b>Welcome</b>', status: 'exited', enteredAt: iso(T0), lastStep: { stepId: 's1', sentAt: iso(T0) }, next: null, exit: { reason: 'converted', stepId: 's2', at: iso(T0 + DAY) } },
    ])
  })

  it('completes a recipient after the last step, and re-enters only when asked', async () => {
    now = T0 + 12 * DAY
    // Through /render this time: the same option, the same marking.
    expect((await s.api('POST', '/v1/campaigns/w3/templates', { html: '<body><a href="https://shop.example/w3">Shop</a></body>' })).status).toBe(201)
    const rendered = await s.api('POST', '/v1/campaigns/w3/render', { recipients: [{ id: 'a' }], sequence: { id: 'welcome', stepId: 's3' } })
    expect(rendered.status).toBe(200)
    expect(rendered.body.recipients).toHaveLength(1)
    expect(rendered.body.sequence).toEqual({ id: 'welcome', stepId: 's3', marked: 1, alreadySent: [], notEnrolled: [], notActive: [] })
    expect((await s.api('GET', '/v1/sequences/welcome/enrollments/a')).body).toMatchObject({ status: 'completed', nextStepId: null, dueAt: null })
    expect((await s.api('POST', '/v1/sequences/welcome/enrollments', { recipients: [{ id: 'a' }] })).body.unchanged).toEqual(['a'])
    expect((await s.api('POST', '/v1/sequences/welcome/enrollments', { recipients: [{ id: 'a' }], reenter: true })).body).toMatchObject({ reentered: 1 })
    expect(await dueIds(now)).toEqual(['a:s1', 'b:s3'])
    const f = (await s.api('GET', '/v1/sequences/welcome/funnel?cohort=day')).body
    expect(f.entered).toBe(6)
    expect(f.cohorts.map((c: { cohort: string; entered: number }) => [c.cohort, c.entered])).toEqual([
      ['2026-11-02', 5],
      ['2026-11-14', 1],
    ])
  })

  it('an erased recipient is never due and cannot be enrolled again', async () => {
    expect((await s.api('DELETE', '/v1/recipients/b')).status).toBe(200)
    expect(await dueIds(now)).toEqual(['a:s1'])
    expect((await s.api('POST', '/v1/sequences/welcome/enrollments', { recipients: [{ id: 'b' }], reenter: true })).body.skipped).toEqual({ count: 1, recipients: [{ id: 'b', reason: 'erased' }] })
  })

  it('deletes a sequence with its enrolments and history', async () => {
    expect((await s.api('DELETE', '/v1/sequences/welcome')).status).toBe(204)
    expect((await s.api('GET', '/v1/sequences/welcome')).status).toBe(404)
    const [row] = await queryRows<{ n: number }>(s.deps.events, `SELECT count() AS n FROM ${s.deps.events.db}.sequence_enrollments WHERE sequence_id = 'welcome'`)
    expect(Number(row!.n)).toBe(0)
  })
})

describe('ids with the text format escapes', () => {
  it('records an id holding a tab, a line break and a backslash as sent, in both stores', async () => {
    const odd = 'x\ty\nz\\w'
    await s.api('POST', '/v1/sequences', { id: 'odd', name: 'Odd', steps: [{ id: 'o1', campaignId: 'other', offset: 'P0D' }] })
    expect((await s.api('POST', '/v1/sequences/odd/enrollments', { recipients: [{ id: odd }] })).body.enrolled).toBe(1)
    const sent = await s.api('POST', '/v1/campaigns/other/sends', { recipients: [{ id: odd }], sequence: { id: 'odd', stepId: 'o1' } })
    expect(sent.body.sequence.marked).toBe(1)
    const db = s.deps.events.db
    const [enr] = await queryRows<{ recipient_id: string; status: string }>(s.deps.events, `SELECT recipient_id, status FROM ${db}.sequence_enrollments FINAL WHERE sequence_id = 'odd'`)
    expect(enr).toEqual({ recipient_id: odd, status: 'completed' })
    const sends = await queryRows<{ recipient_id: string }>(s.deps.events, `SELECT recipient_id FROM ${db}.sequence_sends WHERE sequence_id = 'odd'`)
    expect(sends).toEqual([{ recipient_id: odd }])
  })
})

describe('goal conversions stored before an entry or a change of goal', () => {
  it('a purchase stored before a backdated entry exits it when due; a new goal finds the conversions already stored', async () => {
    const t = now
    const lateDue = async () => (await s.api('GET', `/v1/sequences/late/due?until=${encodeURIComponent(iso(t))}`)).body
    const steps = [{ id: 'l1', campaignId: 'w1', offset: 'P0D' }, { id: 'l2', campaignId: 'w2', offset: 'P1D' }]
    expect((await s.api('POST', '/v1/sequences', { id: 'late', name: 'Late', steps, goal: { type: 'purchase', within: 'P7D' } })).status).toBe(201)
    expect((await s.api('POST', '/v1/conversions', { orderId: 'o-late', recipientId: 'buyer', amount: '5.00', currency: 'EUR', at: iso(t - DAY) })).status).toBe(201)
    expect((await s.api('POST', '/v1/conversions', { orderId: 's-late', recipientId: 'fresh', type: 'signup', at: iso(t - DAY) })).status).toBe(201)
    await s.flush()
    // The conversions are applied (this call's pass) before anyone is in the sequence.
    expect((await lateDue()).due).toEqual([])
    const enrolled = await s.api('POST', '/v1/sequences/late/enrollments', {
      recipients: [{ id: 'buyer', enteredAt: iso(t - 2 * DAY) }, { id: 'fresh', enteredAt: iso(t - 2 * DAY) }, { id: 'afterwards' }],
    })
    expect(enrolled.body.enrolled).toBe(3)
    // buyer bought a day after entering, within the goal's window; afterwards entered after that purchase of another's.
    const page = await lateDue()
    expect(page.due.map((d: { recipientId: string; stepId: string }) => `${d.recipientId}:${d.stepId}`)).toEqual(['fresh:l1', 'afterwards:l1'])
    expect(page.skipped).toEqual({ converted: 1, unsubscribed: 0, suppressed: 0, erased: 0 })
    expect((await s.api('GET', '/v1/sequences/late/enrollments/buyer')).body.exit).toEqual({ reason: 'converted', stepId: 'l1', at: iso(t - DAY) })
    // The goal becomes a signup: fresh's signup, stored and passed over while the goal was a purchase, now counts.
    expect((await s.api('PATCH', '/v1/sequences/late', { goal: { type: 'signup', within: 'P7D' } })).status).toBe(200)
    const after = await lateDue()
    expect(after.due.map((d: { recipientId: string }) => d.recipientId)).toEqual(['afterwards'])
    expect(after.skipped).toEqual({ converted: 1, unsubscribed: 0, suppressed: 0, erased: 0 })
  })
})

describe('the goal pass in pages', () => {
  it('applies more conversions than a page, stored before seq existed (seq 0) and after, and due leaves out every buyer', async () => {
    const t = now
    const steps = [{ id: 'p1', campaignId: 'w1', offset: 'P0D' }]
    expect((await s.api('POST', '/v1/sequences', { id: 'paged', name: 'Paged', steps, goal: { type: 'purchase', within: 'P7D' } })).status).toBe(201)
    const legacy = ['old0', 'old1', 'old2', 'old3', 'old4']
    const buyers = ['new0', 'new1', 'new2']
    const stay = ['nobuy', 'signed', 'toolate']
    const entered = iso(t - 9 * DAY)
    const r = await s.api('POST', '/v1/sequences/paged/enrollments', { recipients: [...legacy, ...buyers, ...stay].map((id) => ({ id, enteredAt: entered })) })
    expect(r.body.enrolled).toBe(11)
    // Conversions stored before the outbox numbered events all have seq 0: written here as an upgrade finds them.
    const db = s.deps.events.db
    await s.deps.events.client.command({
      query: `INSERT INTO ${db}.events (event_id, type, ts, campaign_id, recipient_id, token_valid, method, class, extra)
              SELECT concat('legacy-', id), 'conversion', fromUnixTimestamp64Milli({at:Int64}), '', id, true, 'POST', 'human', '{"kind":"purchase"}'
              FROM (SELECT arrayJoin({ids:Array(String)}) AS id)`,
      query_params: { at: t - 8 * DAY, ids: legacy },
    })
    for (const id of buyers) expect((await s.api('POST', '/v1/conversions', { orderId: `o-${id}`, recipientId: id, amount: '5.00', currency: 'EUR', at: iso(t - 8 * DAY) })).status).toBe(201)
    // Not the goal's type, and a purchase eight days after entry (outside P7D): both stay due.
    expect((await s.api('POST', '/v1/conversions', { orderId: 's-signed', recipientId: 'signed', type: 'signup', at: iso(t - 8 * DAY) })).status).toBe(201)
    expect((await s.api('POST', '/v1/conversions', { orderId: 'o-toolate', recipientId: 'toolate', amount: '5.00', currency: 'EUR', at: iso(t - DAY) })).status).toBe(201)
    await s.flush()
    // As after the upgrade: nothing applied yet. Pages of 2 take 7 transactions for these 11 (and those stored by the tests above).
    await s.deps.meta.db.execute(sql`UPDATE sequence_goal_cursor SET seq = -1, event_id = NULL`)
    await applyStoredConversions(s.deps, 2)
    const cursor = (await s.deps.meta.db.execute(sql`SELECT seq, event_id FROM sequence_goal_cursor`)) as unknown as { rows: Array<{ seq: string | number; event_id: string | null }> }
    expect(cursor.rows.map((c) => ({ seq: Number(c.seq), eventId: c.event_id }))).toEqual([{ seq: s.deps.sequence.committed, eventId: null }])
    const page = (await s.api('GET', `/v1/sequences/paged/due?until=${encodeURIComponent(iso(t))}`)).body
    expect(page.due.map((d: { recipientId: string }) => d.recipientId).sort()).toEqual(stay)
    expect(page.skipped).toEqual({ converted: 8, unsubscribed: 0, suppressed: 0, erased: 0 })
    expect((await s.api('GET', '/v1/sequences/paged/enrollments/old3')).body.exit).toEqual({ reason: 'converted', stepId: 'p1', at: iso(t - 8 * DAY) })
  })
})

/**
 * Every entry's stored item (due_item_head/tail, migration 0370) against the one written from its
 * row's columns here: what `due` lists for an active entry, nothing for any other.
 */
async function expectStoredItemsOfRows(meta: TestServer['deps']['meta']) {
  const res = (await meta.db.execute(sql`
    SELECT recipient_id, status, next_step_id, (extract(epoch FROM due_at) * 1000)::bigint AS due_ms, (extract(epoch FROM entered_at) * 1000)::bigint AS entered_ms,
           variant, segments, attributes, due_item_head, due_item_tail FROM sequence_enrollments`)) as unknown as {
    rows: Array<{ recipient_id: string; status: string; next_step_id: string | null; due_ms: string | number | null; entered_ms: string | number; variant: string | null; segments: string[] | null; attributes: Record<string, string> | null; due_item_head: string | null; due_item_tail: string | null }>
  }
  expect(res.rows.length).toBeGreaterThanOrEqual(3)
  for (const r of res.rows) {
    if (r.status !== 'active') {
      expect([r.recipient_id, r.due_item_head, r.due_item_tail]).toEqual([r.recipient_id, null, null])
      continue
    }
    const item = JSON.parse(`${r.due_item_head},"campaignId":"c"${r.due_item_tail}`) as Record<string, unknown>
    expect(item).toEqual({
      recipientId: r.recipient_id,
      stepId: r.next_step_id,
      campaignId: 'c',
      dueAt: iso(Number(r.due_ms)),
      enteredAt: iso(Number(r.entered_ms)),
      variant: r.variant,
      segments: r.segments ?? [],
      attributes: r.attributes ?? {},
    })
  }
}

describe('the items of due stored with each entry', () => {
  it('follow a step sent, a change of steps and of a step campaign, a re-entry, an exit and an erasure', async () => {
    const t = now
    const odd = 'q"u\\o\tte\u00e9\u2028'
    const itemsDue = async (until: number) => (await s.api('GET', `/v1/sequences/items/due?until=${encodeURIComponent(iso(until))}`)).body.due as Array<Record<string, unknown>>
    const steps = [{ id: 'i1', campaignId: 'w1', offset: 'P0D' }, { id: 'i2', campaignId: 'w2', offset: 'P2D' }]
    expect((await s.api('POST', '/v1/sequences', { id: 'items', name: 'Items', steps })).status).toBe(201)
    const attributes = { 'k"ey': 'v\u00e4l\n', plain: 'x' }
    const r = await s.api('POST', '/v1/sequences/items/enrollments', {
      recipients: [{ id: odd, variant: 'B"', segments: ['s,1', 'é'], attributes }, { id: 'plain' }, { id: 'leaves' }, { id: 'erased-later' }],
    })
    expect(r.body.enrolled).toBe(4)
    const first = { stepId: 'i1', campaignId: 'w1', dueAt: iso(t), enteredAt: iso(t) }
    expect(await itemsDue(t)).toEqual([
      { recipientId: 'erased-later', ...first, variant: null, segments: [], attributes: {} },
      { recipientId: 'leaves', ...first, variant: null, segments: [], attributes: {} },
      { recipientId: 'plain', ...first, variant: null, segments: [], attributes: {} },
      { recipientId: odd, ...first, variant: 'B"', segments: ['s,1', 'é'], attributes },
    ])
    // Step i1 sent to odd: its item moves to i2 and its due time; the others stay at i1.
    expect((await s.api('POST', '/v1/campaigns/w1/sends', { recipients: [{ id: odd }], sequence: { id: 'items', stepId: 'i1' } })).body.sequence.marked).toBe(1)
    expect((await itemsDue(t + 2 * DAY)).map((d) => [d.recipientId, d.stepId, d.campaignId, d.dueAt])).toEqual([
      ['erased-later', 'i1', 'w1', iso(t)],
      ['leaves', 'i1', 'w1', iso(t)],
      ['plain', 'i1', 'w1', iso(t)],
      [odd, 'i2', 'w2', iso(t + 2 * DAY)],
    ])
    // Step i2 now later and another campaign's: the item follows both.
    const patched = await s.api('PATCH', '/v1/sequences/items', { steps: [steps[0], { id: 'i2', campaignId: 'w3', offset: 'P3D' }] })
    expect(patched.status).toBe(200)
    expect((await itemsDue(t + 2 * DAY)).map((d) => d.recipientId)).toEqual(['erased-later', 'leaves', 'plain'])
    expect((await itemsDue(t + 3 * DAY)).at(-1)).toMatchObject({ recipientId: odd, stepId: 'i2', campaignId: 'w3', dueAt: iso(t + 3 * DAY) })
    // Removed: no item; re-entered later with other fields: the new ones; erased: gone.
    expect((await s.api('DELETE', '/v1/sequences/items/enrollments/leaves')).status).toBe(200)
    const again = await s.api('POST', '/v1/sequences/items/enrollments', { recipients: [{ id: 'plain', enteredAt: iso(t + DAY), variant: 'C', attributes: { a: '1' } }], reenter: true })
    expect(again.body.reentered).toBe(1)
    expect((await s.api('DELETE', '/v1/recipients/erased-later')).status).toBe(200)
    expect(await itemsDue(t + DAY)).toEqual([{ recipientId: 'plain', stepId: 'i1', campaignId: 'w1', dueAt: iso(t + DAY), enteredAt: iso(t + DAY), variant: 'C', segments: [], attributes: { a: '1' } }])
    // Every entry of every sequence these tests wrote: the stored item is its row's, and only while active.
    await expectStoredItemsOfRows(s.deps.meta)
  })
})
