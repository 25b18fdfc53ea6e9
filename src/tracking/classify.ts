import type { TrafficClass } from '../events/event.js'

/** What the edge knows about a tracking request, before the IP is anonymised. */
export interface RequestSignals {
  kind: 'open' | 'click' | 'unsubscribe'
  method: string
  userAgent: string
  referer: string
  /** Raw client IP (v4 or v6 text). */
  ip: string
  /** Prefetch hints, as stored in the event's `prefetch` field (e.g. "sec-purpose=prefetch"). */
  prefetch: string
}

export interface Classification {
  class: TrafficClass
  reasons: string[]
  proxy: string
}

export const CLASSIFIER_VERSION = 0

const HUMAN: Classification = { class: 'human', reasons: [], proxy: '' }

/** Placeholder until the classification rules land: every request is taken as human. */
export function classify(_s: RequestSignals): Classification {
  return HUMAN
}
