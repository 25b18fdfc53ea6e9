import { and, count, inArray, sql } from 'drizzle-orm'
import { pendingMutations } from '../store/clickhouse-check.js'
import { exclusive } from '../store/exclusive.js'
import type { AppDeps } from '../deps.js'
import type { TrafficClass } from '../events/event.js'
import { queryRows } from '../store/clickhouse.js'
import { honeypotLinks, visibleLinks } from '../services/templates.js'
import { campaigns, links } from '../store/schema.js'
import { type BurstEvent, type BurstOptions, detectBursts } from '../tracking/classify.js'
import { applyStoredUpdates, serialized, type StoredUpdate } from './apply.js'

/** Reasons only the second pass gives; reclassify strips them before re-running the pass. */
export const SECOND_PASS_REASONS: ReadonlySet<string> = new Set(['burst', 'shared_ip_burst', 'honeypot', 'too_soon_after_send'])

export interface SecondPassOptions {
  /** The pass's "now" (ms); defaults to deps.clock(). */
  now?: number
  /** Events younger than this are left for a later pass, so a burst is seen whole. Default 30 s. */
  delayMs?: number
  /** How far behind now - delayMs a pass looks; each event is seen by several passes. Default 5 min. */
  lookbackMs?: number
  /**
   * A click this soon after its send (sends.sent_at) is a scanner's (gateways follow links on
   * delivery), except in a campaign marked as a test send (settings.test). Default 5 s; 0 turns it off.
   */
  tooSoonMs?: number
  /** Thresholds and windows of detectBursts (defaults there). */
  bursts?: Omit<BurstOptions, 'honeypotLinkIds' | 'linksPerCampaign'>
}

/** An explicit window instead of now-relative (reclassify). */
export interface PassWindow {
  from: number
  to: number
}

export interface SecondPassResult {
  examined: number
  updated: number
  /** Events newly given each reason. */
  byReason: Record<string, number>
}

type Deps = Pick<AppDeps, 'events' | 'meta' | 'clock'>

/** The stored columns the after-the-fact rules need (reclassify reads these and the edge signals). */
export interface PassRow {
  event_id: string
  type: string
  campaign_id: string
  link_id: string
  recipient_id: string
  /** Not named ts: a SELECT alias shadows the column in WHERE. */
  ts_ms: number | string
  ip: string
  class: TrafficClass
  reasons: string[]
}

/** A stored row as detectBursts takes it, with the class and reasons it has or is about to get. */
export function toBurstEvent(r: PassRow, state: { class: TrafficClass; reasons: string[] } = r): BurstEvent {
  return { eventId: r.event_id, type: r.type, campaignId: r.campaign_id, linkId: r.link_id, recipientId: r.recipient_id, ts: Number(r.ts_ms), ip: r.ip, class: state.class, reasons: state.reasons }
}

export const PASS_DEFAULTS = { delayMs: 30_000, lookbackMs: 5 * 60_000, tooSoonMs: 5_000, intervalMs: 30_000 }

/**
 * The after-the-fact pass: reads the clicks of a recent window (with the neighbours a burst
 * or a honeypot hit may span), runs detectBursts and the too-soon-after-send rule, and
 * applies the changes to the stored events (compare-and-set, see applyStoredUpdates).
 * Idempotent: a second run over the same events finds nothing to change.
 */
export function runSecondPass(deps: Deps, opts: SecondPassOptions = {}): Promise<SecondPassResult> {
  const now = opts.now ?? deps.clock()
  const delayMs = opts.delayMs ?? PASS_DEFAULTS.delayMs
  const lookbackMs = opts.lookbackMs ?? PASS_DEFAULTS.lookbackMs
  const to = now - delayMs
  return secondPassOver(deps, { from: to - lookbackMs, to }, opts)
}

/** The pass over events with ts in [from, to]; neighbours on both sides are read but only events in the window change. */
export function secondPassOver(deps: Deps, window: PassWindow, opts: SecondPassOptions = {}): Promise<SecondPassResult> {
  return serialized(deps.events, () => pass(deps, window, opts))
}

/** The widest span a rule looks across: how far outside the window neighbours are read. */
export function margin(o: BurstOptions): number {
  return Math.max(o.windowMs ?? 2000, o.sharedIpWindowMs ?? 5000, o.honeypotWindowMs ?? 10_000)
}

async function pass(deps: Deps, window: PassWindow, opts: SecondPassOptions): Promise<SecondPassResult> {
  const store = deps.events
  const burstOpts = opts.bursts ?? {}
  const m = margin(burstOpts)
  const rows = await queryRows<PassRow>(
    store,
    `SELECT event_id, type, campaign_id, link_id, recipient_id, toUnixTimestamp64Milli(ts) AS ts_ms, ip, class, reasons
     FROM ${store.db}.events
     WHERE type = 'click'
       AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')`,
    { fromMs: window.from - m, toMs: window.to + m },
  )
  const result: SecondPassResult = { examined: 0, updated: 0, byReason: {} }
  if (rows.length === 0) return result
  const events = rows.map((r) => toBurstEvent(r))
  const next = await passChanges(deps, events, opts)

  const updates: StoredUpdate[] = []
  for (const e of events) {
    if (e.ts < window.from || e.ts > window.to) continue
    result.examined++
    const n = next.get(e.eventId)
    if (!n) continue
    updates.push({ eventId: e.eventId, was: { class: e.class, reasons: e.reasons }, class: n.class, reasons: n.reasons })
    for (const r of n.reasons) if (!e.reasons.includes(r)) result.byReason[r] = (result.byReason[r] ?? 0) + 1
  }
  if (updates.length > 0) await applyStoredUpdates(store, updates, window)
  result.updated = updates.length
  return result
}

/**
 * New class and reasons of the clicks the after-the-fact rules mark (burst, shared_ip_burst,
 * honeypot, too_soon_after_send); events absent from the map keep theirs.
 */
export async function passChanges(
  deps: Deps, events: readonly BurstEvent[], opts: SecondPassOptions = {},
): Promise<Map<string, { class: TrafficClass; reasons: string[] }>> {
  const next = new Map<string, { class: TrafficClass; reasons: string[] }>()
  const clicks = events.filter((e) => e.type === 'click')
  if (clicks.length === 0) return next
  const campaignIds = [...new Set(clicks.map((e) => e.campaignId))]
  const { honeypots, linksPerCampaign } = await campaignLinks(deps, campaignIds)
  for (const u of detectBursts(clicks, { ...opts.bursts, honeypotLinkIds: honeypots, linksPerCampaign })) {
    next.set(u.eventId, { class: u.class, reasons: u.reasons })
  }

  const tooSoonMs = opts.tooSoonMs ?? PASS_DEFAULTS.tooSoonMs
  if (tooSoonMs > 0) {
    const sentAt = await sendTimes(deps, clicks)
    const tests = await testCampaigns(deps, campaignIds)
    for (const e of clicks) {
      if (tests.has(e.campaignId)) continue
      const sent = sentAt.get(e.campaignId + '\u0000' + e.recipientId)
      if (sent === undefined || e.ts < sent || e.ts - sent > tooSoonMs) continue
      const cur = next.get(e.eventId) ?? { class: e.class, reasons: [...e.reasons] }
      if (cur.reasons.includes('too_soon_after_send') && cur.class !== 'human') continue
      next.set(e.eventId, {
        class: cur.class === 'crawler' ? 'crawler' : 'scanner_click',
        reasons: cur.reasons.includes('too_soon_after_send') ? cur.reasons : [...cur.reasons, 'too_soon_after_send'],
      })
    }
  }
  return next
}

async function campaignLinks(deps: Deps, campaignIds: string[]): Promise<{ honeypots: string[]; linksPerCampaign: Map<string, number> }> {
  const db = deps.meta.db
  const honeypots = await db
    .select({ id: links.id })
    .from(links)
    .where(and(inArray(links.campaignId, campaignIds), honeypotLinks()))
  // "Every link" counts only the links a reader can see.
  const counts = await db
    .select({ campaignId: links.campaignId, n: count() })
    .from(links)
    .where(and(inArray(links.campaignId, campaignIds), visibleLinks()))
    .groupBy(links.campaignId)
  return { honeypots: honeypots.map((h) => h.id), linksPerCampaign: new Map(counts.map((c) => [c.campaignId, Number(c.n)])) }
}

/** Campaigns marked as test sends (settings.test): a person checking one clicks at once, so too-soon does not apply. */
async function testCampaigns(deps: Deps, campaignIds: string[]): Promise<Set<string>> {
  const rows = await deps.meta.db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(inArray(campaigns.id, campaignIds), sql`(${campaigns.settings} ->> 'test') = 'true'`))
  return new Set(rows.map((r) => r.id))
}

async function sendTimes(deps: Deps, events: readonly BurstEvent[]): Promise<Map<string, number>> {
  const campaigns = [...new Set(events.map((e) => e.campaignId))]
  const recipients = [...new Set(events.filter((e) => e.recipientId).map((e) => e.recipientId))]
  if (recipients.length === 0) return new Map()
  const rows = await queryRows<{ campaign_id: string; recipient_id: string; sent: number | string }>(
    deps.events,
    `SELECT campaign_id, recipient_id, toUnixTimestamp64Milli(sent_at) AS sent
     FROM ${deps.events.db}.sends FINAL
     WHERE campaign_id IN {campaigns:Array(String)} AND recipient_id IN {recipients:Array(String)}`,
    { campaigns, recipients },
  )
  return new Map(rows.map((r) => [r.campaign_id + '\u0000' + r.recipient_id, Number(r.sent)]))
}

export interface SecondPassJob {
  /** Runs one pass now (tests, shutdown). */
  runOnce(): Promise<SecondPassResult | null>
  stop(): Promise<void>
}

/**
 * Runs the pass every `intervalMs` in the process that owns the writer (one process per
 * ClickHouse, so passes never race across instances of the edge). A failed pass is logged
 * and the next one covers the same events: the lookback spans many intervals.
 */
export function startSecondPass(
  deps: Deps & Pick<AppDeps, 'log'>,
  opts: SecondPassOptions & { intervalMs?: number; onSettled?: (to: number) => void } = {},
): SecondPassJob {
  const intervalMs = opts.intervalMs ?? PASS_DEFAULTS.intervalMs
  let running: Promise<SecondPassResult | null> | null = null
  let stopped = false
  const runOnce = (): Promise<SecondPassResult | null> => {
    if (running) return running
    const now = deps.clock()
    // Once for the deployment: one instance at a time (an advisory lock on a shared PostgreSQL),
    // and not while an earlier pass's mutation is still running on the server.
    running = exclusive(deps.meta, 'classification-pass', async () => {
      const pending = await pendingMutations(deps.events, 'events')
      if (pending > 0) {
        deps.log.info('second_pass_waiting', { pendingMutations: pending })
        return null
      }
      return runSecondPass(deps, { ...opts, now })
    }, { wait: false })
      .then((outcome) => {
        const r = outcome.ran ? outcome.value : null
        if (r && r.updated > 0) deps.log.info('second_pass', { examined: r.examined, updated: r.updated, byReason: r.byReason })
        // Events stored by now - delay have been judged (or were older than the lookback, never to be).
        if (r) opts.onSettled?.(now - (opts.delayMs ?? PASS_DEFAULTS.delayMs))
        return r
      })
      .catch((err: unknown) => {
        deps.log.warn('second_pass_failed', { message: (err as Error).message })
        return null
      })
      .finally(() => {
        running = null
      })
    return running
  }
  const timer = setInterval(() => {
    if (!stopped) void runOnce()
  }, intervalMs)
  timer.unref()
  return {
    runOnce,
    async stop() {
      stopped = true
      clearInterval(timer)
      if (running) await running
    },
  }
}
