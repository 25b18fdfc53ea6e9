import type { AppDeps } from '../deps.js'
import type { TrafficClass } from '../events/event.js'
import { queryRows } from '../store/clickhouse.js'
import { type BurstEvent, CLASSIFIER_VERSION, classify } from '../tracking/classify.js'
import { applyStoredUpdates, serialized, type StoredUpdate } from './apply.js'
import { margin, passChanges, type PassRow, SECOND_PASS_REASONS, type SecondPassOptions, toBurstEvent } from './second-pass.js'

export interface ReclassifyInput {
  /** Window on the events' ts, in ms since the epoch (inclusive). */
  from: number
  to: number
  campaignId?: string | undefined
}

const CLASSES: TrafficClass[] = ['human', 'machine_open', 'scanner_click', 'crawler']

export interface ReclassifyResult {
  classifierVersion: number
  /** Events in the window that carry a class (opens, clicks, unsubscribes). */
  examined: number
  /** Events whose class, reasons, proxy or rules version changed. */
  changed: number
  /** Events per class before and after. */
  before: Record<TrafficClass, number>
  after: Record<TrafficClass, number>
  /** Events whose class changed, by "old→new". */
  transitions: Record<string, number>
}

/**
 * IP reasons cannot be recomputed from the stored, anonymised address when the range is
 * narrower than the anonymisation prefix, so a stored one is kept: `scanner_ip` always,
 * `apple_mpp` on opens (where it may have come from the relay ranges rather than the UA).
 */
const STICKY_REASONS = ['scanner_ip', 'apple_mpp'] as const

/** Read and reclassify the window in slices, so memory stays bounded by one slice's events. */
const SLICE_MS = 60 * 60_000

type Deps = Pick<AppDeps, 'events' | 'meta' | 'clock'>

interface Row extends PassRow {
  method: string
  user_agent: string
  referer: string
  prefetch: string
  proxy: string
  classifier_version: number
}

/**
 * Recomputes class, reasons, proxy and classifier_version of stored events with the current
 * rules: the edge rules from the stored signals (method, user agent, referer, prefetch hints,
 * anonymised IP, plus the sticky IP reasons above), then the after-the-fact pass over the
 * same clicks and their neighbours, in memory, so each event gets one update with its final
 * state. Conversions carry no class and are left alone.
 */
export async function reclassify(deps: Deps, input: ReclassifyInput, opts: SecondPassOptions = {}): Promise<ReclassifyResult> {
  const zero = () => Object.fromEntries(CLASSES.map((c) => [c, 0])) as Record<TrafficClass, number>
  const result: ReclassifyResult = { classifierVersion: CLASSIFIER_VERSION, examined: 0, changed: 0, before: zero(), after: zero(), transitions: {} }
  for (let from = input.from; from <= input.to; from += SLICE_MS) {
    const to = Math.min(input.to, from + SLICE_MS - 1)
    await serialized(deps.events, () => slice(deps, { from, to, campaignId: input.campaignId }, opts, result))
  }
  return result
}

async function slice(deps: Deps, w: ReclassifyInput, opts: SecondPassOptions, result: ReclassifyResult): Promise<void> {
  const store = deps.events
  const rows = await queryRows<Row>(
    store,
    `SELECT event_id, type, campaign_id, link_id, recipient_id, toUnixTimestamp64Milli(ts) AS ts_ms, method, ip,
            user_agent, referer, prefetch, class, reasons, proxy, classifier_version
     FROM ${store.db}.events
     WHERE type IN ('open', 'click', 'unsubscribe')
       AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
       AND ({campaign:String} = '' OR campaign_id = {campaign:String})`,
    // Neighbours outside the slice a burst or a honeypot hit may reach, for the rules as configured.
    { fromMs: w.from - margin(opts.bursts ?? {}), toMs: w.to + margin(opts.bursts ?? {}), campaign: w.campaignId ?? '' },
  )
  if (rows.length === 0) return
  const inWindow = (ts: number) => ts >= w.from && ts <= w.to
  const base = new Map<string, { class: TrafficClass; reasons: string[]; proxy: string }>()
  const events: BurstEvent[] = []
  for (const r of rows) {
    const ts = Number(r.ts_ms)
    let state = { class: r.class, reasons: r.reasons, proxy: r.proxy }
    if (inWindow(ts)) {
      state = edgeRules(r)
      base.set(r.event_id, state)
    }
    events.push(toBurstEvent(r, state))
  }
  const passed = await passChanges(deps, events, opts)

  const updates: StoredUpdate[] = []
  for (const r of rows) {
    const b = base.get(r.event_id)
    if (!b) continue
    const p = passed.get(r.event_id)
    const next = { class: p?.class ?? b.class, reasons: p?.reasons ?? b.reasons, proxy: b.proxy }
    result.examined++
    result.before[r.class] = (result.before[r.class] ?? 0) + 1
    result.after[next.class]++
    if (next.class !== r.class) {
      const k = `${r.class}→${next.class}`
      result.transitions[k] = (result.transitions[k] ?? 0) + 1
    }
    const same = next.class === r.class && next.proxy === r.proxy && Number(r.classifier_version) === CLASSIFIER_VERSION &&
      next.reasons.length === r.reasons.length && next.reasons.every((x, i) => x === r.reasons[i])
    if (same) continue
    updates.push({ eventId: r.event_id, was: { class: r.class, reasons: r.reasons }, ...next, classifierVersion: CLASSIFIER_VERSION })
  }
  if (updates.length > 0) await applyStoredUpdates(store, updates, { from: w.from, to: w.to }, 'reclassify')
  result.changed += updates.length
}

function edgeRules(r: Row): { class: TrafficClass; reasons: string[]; proxy: string } {
  const kind = r.type === 'open' ? 'open' : r.type === 'click' ? 'click' : 'unsubscribe'
  const c = classify({ kind, method: r.method, userAgent: r.user_agent, referer: r.referer, ip: r.ip, prefetch: r.prefetch })
  const reasons = c.reasons.filter((x) => !SECOND_PASS_REASONS.has(x))
  let cls = c.class
  for (const sticky of STICKY_REASONS) {
    if (sticky === 'apple_mpp' && kind !== 'open') continue
    if (r.reasons.includes(sticky) && !reasons.includes(sticky)) {
      reasons.push(sticky)
      if (cls === 'human') cls = kind === 'open' ? 'machine_open' : 'scanner_click'
    }
  }
  return { class: cls, reasons, proxy: c.proxy }
}
