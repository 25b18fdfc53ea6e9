import type { TrafficClass } from '../../events/event.js'

/** The fields of a stored event the after-the-fact pass reads. */
export interface BurstEvent {
  eventId: string
  type: string
  campaignId: string
  linkId: string
  recipientId: string
  /** Milliseconds since the epoch. */
  ts: number
  ip: string
  class: TrafficClass
  reasons: readonly string[]
}

export interface BurstOptions {
  /** Rule 1 window: one recipient's clicks on distinct links within this span. Default 2000 ms. */
  windowMs?: number
  /** Rule 1 threshold of distinct links. Default 3. */
  minDistinctLinks?: number
  /**
   * Links per campaign. When given, clicking every link of a campaign with fewer links than
   * `minDistinctLinks` (but at least 2) within the window is a burst too.
   */
  linksPerCampaign?: Readonly<Record<string, number>> | ReadonlyMap<string, number>
  /** Rule 2 window: one link clicked from one IP by many recipients. Default 5000 ms. */
  sharedIpWindowMs?: number
  /** Rule 2 threshold of distinct recipients. Default 5. */
  sharedIpMinRecipients?: number
  /** Rule 3: links no person can see; a click on one marks that recipient's nearby clicks. */
  honeypotLinkIds?: Iterable<string>
  /** Rule 3 window on each side of the honeypot click. Default 10000 ms. */
  honeypotWindowMs?: number
}

export interface BurstUpdate {
  eventId: string
  class: TrafficClass
  /** The event's full new reason list (its old reasons, then the added ones). */
  reasons: string[]
}

function groupBy(events: readonly BurstEvent[], key: (e: BurstEvent) => string | null): Map<string, BurstEvent[]> {
  const groups = new Map<string, BurstEvent[]>()
  for (const e of events) {
    const k = key(e)
    if (k === null) continue
    const g = groups.get(k)
    if (g) g.push(e)
    else groups.set(k, [e])
  }
  for (const g of groups.values()) g.sort((a, b) => a.ts - b.ts)
  return groups
}

/**
 * Marks every event of a time-sorted group that falls in a window of at most `windowMs`
 * holding at least `threshold` distinct values of `value`.
 */
function slidingDistinct(
  g: BurstEvent[], windowMs: number, threshold: number, value: (e: BurstEvent) => string,
  mark: (e: BurstEvent) => void,
): void {
  const counts = new Map<string, number>()
  let left = 0
  let markedTo = -1
  for (let right = 0; right < g.length; right++) {
    const v = value(g[right]!)
    counts.set(v, (counts.get(v) ?? 0) + 1)
    while (g[right]!.ts - g[left]!.ts > windowMs) {
      const lv = value(g[left]!)
      const n = counts.get(lv)! - 1
      if (n === 0) counts.delete(lv)
      else counts.set(lv, n)
      left++
    }
    if (counts.size >= threshold) {
      for (let i = Math.max(left, markedTo + 1); i <= right; i++) mark(g[i]!)
      markedTo = right
    }
  }
}

/**
 * The after-the-fact pass over stored clicks: finds machine clicks that no single request
 * shows, and returns the updates to apply (only events whose class or reasons change).
 *
 * 1. `burst`: one recipient clicks ≥ 3 distinct links of a campaign (or every link, see
 *    `linksPerCampaign`) within 2 s — no person reads that fast; scanners follow every link.
 * 2. `shared_ip_burst`: one link clicked by ≥ 5 distinct recipients from one IP within 5 s —
 *    a gateway scanning a whole organisation's copies of the message.
 * 3. `honeypot`: a click on a hidden link marks that recipient's clicks within ±10 s.
 *
 * Marked clicks become `scanner_click` (a `crawler` stays `crawler`). Pure and idempotent:
 * applied to its own output it returns nothing new.
 */
export function detectBursts(events: readonly BurstEvent[], opts: BurstOptions = {}): BurstUpdate[] {
  const windowMs = opts.windowMs ?? 2000
  const minLinks = opts.minDistinctLinks ?? 3
  const ipWindowMs = opts.sharedIpWindowMs ?? 5000
  const minRecipients = opts.sharedIpMinRecipients ?? 5
  const honeyWindowMs = opts.honeypotWindowMs ?? 10_000
  const honeypots = new Set(opts.honeypotLinkIds ?? [])
  const perCampaign = opts.linksPerCampaign
  const linksOf = (campaignId: string): number | undefined =>
    perCampaign === undefined ? undefined
      : perCampaign instanceof Map ? perCampaign.get(campaignId)
      : (perCampaign as Readonly<Record<string, number>>)[campaignId]

  const clicks = events.filter((e) => e.type === 'click')
  const added = new Map<BurstEvent, Set<string>>()
  const marker = (reason: string) => (e: BurstEvent): void => {
    const s = added.get(e)
    if (s) s.add(reason)
    else added.set(e, new Set([reason]))
  }

  const byRecipient = groupBy(clicks, (e) => (e.recipientId && e.linkId ? e.campaignId + '\u0000' + e.recipientId : null))
  for (const g of byRecipient.values()) {
    const n = linksOf(g[0]!.campaignId)
    const threshold = n === undefined ? minLinks : Math.max(2, Math.min(minLinks, n))
    slidingDistinct(g, windowMs, threshold, (e) => e.linkId, marker('burst'))
  }

  const byLinkIp = groupBy(clicks, (e) => (e.ip ? e.campaignId + '\u0000' + e.linkId + '\u0000' + e.ip : null))
  for (const g of byLinkIp.values()) slidingDistinct(g, ipWindowMs, minRecipients, (e) => e.recipientId, marker('shared_ip_burst'))

  if (honeypots.size > 0) {
    const markHoney = marker('honeypot')
    const byPerson = groupBy(clicks, (e) => e.recipientId || null)
    for (const g of byPerson.values()) {
      const traps = g.filter((e) => honeypots.has(e.linkId)).map((e) => e.ts)
      if (traps.length === 0) continue
      let t = 0
      for (const e of g) {
        while (t < traps.length && traps[t]! < e.ts - honeyWindowMs) t++
        if (t < traps.length && traps[t]! <= e.ts + honeyWindowMs) markHoney(e)
      }
    }
  }

  const updates: BurstUpdate[] = []
  for (const e of clicks) {
    const reasons = added.get(e)
    if (!reasons) continue
    const cls: TrafficClass = e.class === 'crawler' ? 'crawler' : 'scanner_click'
    const fresh = [...reasons].filter((r) => !e.reasons.includes(r))
    if (fresh.length === 0 && cls === e.class) continue
    updates.push({ eventId: e.eventId, class: cls, reasons: [...e.reasons, ...fresh] })
  }
  return updates
}
