import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyStoredUpdates } from '../../src/classification/apply.js'
import { runSecondPass } from '../../src/classification/second-pass.js'
import { HONEYPOT_LABEL } from '../../src/services/templates.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { startTestServer, type TestServer } from '../support/server.js'

const T0 = Date.parse('2026-03-02T10:00:00.000Z')
let now = T0
let s: TestServer
/** Tracked click URL of recipient → link label. */
const urls = new Map<string, string>()

interface Row {
  event_id: string
  recipient_id: string
  link_id: string
  ts_ms: number
  class: string
  reasons: string[]
}

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'

async function clickAt(at: number, recipient: string, label: string): Promise<void> {
  now = at
  const r = await fetch(urls.get(`${recipient}/${label}`)!, { redirect: 'manual', headers: { 'user-agent': CHROME } })
  expect(r.status).toBe(302)
}

async function rows(recipient: string, campaign = 'bursty'): Promise<Row[]> {
  return queryRows<Row>(
    s.deps.events,
    `SELECT event_id, recipient_id, link_id, toUnixTimestamp64Milli(ts) AS ts_ms, class, reasons FROM ${s.deps.events.db}.events
     WHERE campaign_id = {c:String} AND recipient_id = {r:String} ORDER BY ts`,
    { r: recipient, c: campaign },
  )
}

beforeAll(async () => {
  s = await startTestServer({ clock: () => now, env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  await s.api('POST', '/v1/campaigns', { name: 'Bursts', id: 'bursty' })
  const labelOf = new Map<string, string>()
  for (const label of ['a', 'b', 'c', 'd']) labelOf.set((await s.api('POST', '/v1/campaigns/bursty/links', { url: `https://shop.example/${label}`, label })).body.id, label)
  // The honeypot comes from a template; the template's one visible link carries the same label as a
  // sender's choice (data-label), and must stay an ordinary link.
  const tpl = await s.api('POST', '/v1/campaigns/bursty/templates', {
    html: `<html><body><p>Hello</p><a href="https://shop.example/e" data-label="${HONEYPOT_LABEL}">Shop</a></body></html>`,
    options: { honeypot: true },
  })
  expect(tpl.status).toBe(201)
  labelOf.set(tpl.body.honeypotLinkId, HONEYPOT_LABEL)
  labelOf.set(tpl.body.links[0].id, 'decoy')
  const register = (body: { recipients: Array<{ id: string }>; links?: unknown }) =>
    (body.recipients as Array<{ id: string; links: Array<{ id: string; url: string }> }>).forEach((r) => r.links.forEach((l) => urls.set(`${r.id}/${labelOf.get(l.id)}`, l.url)))
  const early = await s.api('POST', '/v1/campaigns/bursty/sends', {
    sentAt: new Date(T0 - 3_600_000).toISOString(),
    recipients: [{ id: 'fast' }, { id: 'slow' }, { id: 'trapped' }, { id: 'calm' }],
  })
  expect(early.status).toBe(201)
  register(early.body)
  const late = await s.api('POST', '/v1/campaigns/bursty/sends', { sentAt: new Date(T0 + 20_000).toISOString(), recipients: [{ id: 'quick' }] })
  register(late.body)
  // A test send: the marketer clicks it as soon as it arrives, which is not a scanner's haste.
  await s.api('POST', '/v1/campaigns', { name: 'Test send', id: 'checked', settings: { test: true } })
  const checkedLink = (await s.api('POST', '/v1/campaigns/checked/links', { url: 'https://shop.example/t', label: 't' })).body.id
  labelOf.set(checkedLink, 'checked')
  register((await s.api('POST', '/v1/campaigns/checked/sends', { sentAt: new Date(T0 + 20_000).toISOString(), recipients: [{ id: 'marketer' }] })).body)

  await clickAt(T0, 'fast', 'a')
  await clickAt(T0 + 600, 'fast', 'b')
  await clickAt(T0 + 1500, 'fast', 'c')
  await clickAt(T0, 'slow', 'a')
  await clickAt(T0 + 5000, 'slow', 'b')
  await clickAt(T0 + 10_000, 'slow', 'c')
  await clickAt(T0 + 1000, 'trapped', 'd')
  await clickAt(T0 + 4000, 'trapped', HONEYPOT_LABEL)
  await clickAt(T0 + 30_000, 'calm', 'a')
  await clickAt(T0 + 50_000, 'calm', 'decoy')
  await clickAt(T0 + 22_000, 'quick', 'b')
  await clickAt(T0 + 22_000, 'marketer', 'checked')
  await s.flush()
})
afterAll(async () => {
  await s.stop()
})

describe('second pass over stored clicks', () => {
  it('leaves young events for a later pass', async () => {
    const r = await runSecondPass(s.deps, { now: T0 + 5_000 })
    expect(r.updated).toBe(0)
    expect((await rows('fast')).map((e) => e.class)).toEqual(['human', 'human', 'human'])
  })

  it('marks a burst, a honeypot hit and a click too soon after its send; spread clicks stay human', async () => {
    const r = await runSecondPass(s.deps, { now: T0 + 90_000 })
    expect(r).toMatchObject({ examined: 12, updated: 6, byReason: { burst: 3, honeypot: 2, too_soon_after_send: 1 } })
    expect((await rows('fast')).map((e) => [e.class, e.reasons])).toEqual([['scanner_click', ['burst']], ['scanner_click', ['burst']], ['scanner_click', ['burst']]])
    expect((await rows('slow')).map((e) => [e.class, e.reasons])).toEqual([['human', []], ['human', []], ['human', []]])
    expect((await rows('trapped')).map((e) => [e.class, e.reasons])).toEqual([['scanner_click', ['honeypot']], ['scanner_click', ['honeypot']]])
    expect((await rows('calm')).map((e) => [e.class, e.reasons])).toEqual([['human', []], ['human', []]])
    expect((await rows('quick')).map((e) => [e.class, e.reasons])).toEqual([['scanner_click', ['too_soon_after_send']]])
    expect((await rows('marketer', 'checked')).map((e) => [e.class, e.reasons])).toEqual([['human', []]])
  })

  it('changes nothing when run again', async () => {
    const before = await queryRows(s.deps.events, `SELECT event_id, class, reasons FROM ${s.deps.events.db}.events ORDER BY event_id`)
    const r = await runSecondPass(s.deps, { now: T0 + 90_000 })
    expect(r.updated).toBe(0)
    const later = await runSecondPass(s.deps, { now: T0 + 120_000 })
    expect(later.updated).toBe(0)
    expect(await queryRows(s.deps.events, `SELECT event_id, class, reasons FROM ${s.deps.events.db}.events ORDER BY event_id`)).toEqual(before)
  })

  it('applies an update only to the state it was computed from', async () => {
    const [e] = await rows('slow')
    const stale = { eventId: e!.event_id, was: { class: 'crawler' as const, reasons: [] }, class: 'scanner_click' as const, reasons: ['burst'] }
    await applyStoredUpdates(s.deps.events, [stale], { from: T0 - 1000, to: T0 + 60_000 })
    expect((await rows('slow'))[0]).toMatchObject({ class: 'human', reasons: [] })
    await applyStoredUpdates(s.deps.events, [{ ...stale, was: { class: 'human', reasons: [] } }], { from: T0 - 1000, to: T0 + 60_000 })
    expect((await rows('slow'))[0]).toMatchObject({ class: 'scanner_click', reasons: ['burst'] })
  })
})

describe('the second pass job started by the runtime', () => {
  it('marks a burst by itself, in the process that owns the writer', async () => {
    const srv = await startTestServer({ env: { CLASSIFY_PASS_INTERVAL_MS: '100', CLASSIFY_PASS_DELAY_MS: '0' } })
    try {
      await srv.api('POST', '/v1/campaigns', { name: 'Job', id: 'job' })
      for (const label of ['a', 'b', 'c']) await srv.api('POST', '/v1/campaigns/job/links', { url: `https://shop.example/${label}`, label })
      const sends = await srv.api('POST', '/v1/campaigns/job/sends', { sentAt: new Date(Date.now() - 3_600_000).toISOString(), recipients: [{ id: 'scanner' }] })
      for (const l of sends.body.recipients[0].links as Array<{ url: string }>) await fetch(l.url, { redirect: 'manual', headers: { 'user-agent': CHROME } })
      await srv.flush()
      let classes: string[] = []
      for (let i = 0; i < 50 && !(classes.length === 3 && classes.every((c) => c === 'scanner_click')); i++) {
        await new Promise((r) => setTimeout(r, 100))
        classes = (await queryRows<{ class: string }>(srv.deps.events, `SELECT class FROM ${srv.deps.events.db}.events WHERE campaign_id = 'job'`)).map((r) => r.class)
      }
      expect(classes).toEqual(['scanner_click', 'scanner_click', 'scanner_click'])
    } finally {
      await srv.stop()
    }
  })
})
