import type { TrafficClass } from '../events/event.js'
import type { EventStore } from '../store/clickhouse.js'
import { recomputeSendOutcomes } from '../store/send-outcomes.js'
import { recomputeSendFacts } from '../store/sequence-facts.js'
import { engagementOfEvents, refreshRecipientEngagement } from './engagement-refresh.js'

/** A new class/reasons (and optionally proxy and rules version) for one stored event, and what it was read as. */
export interface StoredUpdate {
  eventId: string
  /** What the event held when it was read: the update applies only if it still does. */
  was: { class: TrafficClass; reasons: readonly string[] }
  class: TrafficClass
  reasons: readonly string[]
  proxy?: string
  classifierVersion?: number
}

/** Ids per statement: the ids travel as query parameters (a URL on an HTTP server), so keep them well under 1 MiB. */
const CHUNK = 5_000

/**
 * Applies updates to stored events with one `ALTER TABLE … UPDATE` per chunk, synchronously
 * (`mutations_sync = 2`), so the caller reads its own writes.
 *
 * Each row's new values are looked up by position (`arrayElement(new, indexOf(ids, event_id))`;
 * `transform` refuses array values) and the WHERE is a compare-and-set on (class, reasons):
 * an update computed from a state that changed since (a concurrent pass, a reclassify in
 * another process) applies to nothing, and applying the same update twice changes nothing.
 * `ts` bounds let ClickHouse skip partitions and parts outside the window.
 */
/** Who changed a verdict: the periodic pass, or an administrator's reclassify. */
export type UpdateOrigin = 'second_pass' | 'reclassify'

export type AppliedListener = (updates: readonly StoredUpdate[], tsRange: { from: number; to: number }, origin: UpdateOrigin) => Promise<void>

const appliedListeners = new WeakMap<EventStore, AppliedListener[]>()

/** Told of every applied batch of updates (the outbox emits email.reclassified); a listener handles its own errors. */
export function onStoredUpdates(store: EventStore, fn: AppliedListener): () => void {
  const list = appliedListeners.get(store) ?? []
  list.push(fn)
  appliedListeners.set(store, list)
  return () => {
    const i = list.indexOf(fn)
    if (i >= 0) list.splice(i, 1)
  }
}

export async function applyStoredUpdates(store: EventStore, updates: readonly StoredUpdate[], tsRange: { from: number; to: number }, origin: UpdateOrigin = 'second_pass'): Promise<void> {
  const full = updates.some((u) => u.proxy !== undefined || u.classifierVersion !== undefined)
  if (full && !updates.every((u) => u.proxy !== undefined && u.classifierVersion !== undefined)) {
    throw new Error('applyStoredUpdates: proxy and classifierVersion must be given for every update or none')
  }
  for (let i = 0; i < updates.length; i += CHUNK) {
    const part = updates.slice(i, i + CHUNK)
    const pos = `indexOf({ids:Array(String)}, event_id)`
    const sets = [
      `class = arrayElement({classes:Array(String)}, ${pos})`,
      `reasons = arrayElement({reasons:Array(Array(String))}, ${pos})`,
      ...(full
        ? [`proxy = arrayElement({proxies:Array(String)}, ${pos})`, `classifier_version = arrayElement({versions:Array(UInt16)}, ${pos})`]
        : []),
    ]
    await store.client.command({
      query: `ALTER TABLE ${store.db}.events UPDATE ${sets.join(', ')}
              WHERE ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
                AND event_id IN {ids:Array(String)}
                AND class = arrayElement({wasClasses:Array(String)}, ${pos})
                AND reasons = arrayElement({wasReasons:Array(Array(String))}, ${pos})`,
      query_params: {
        fromMs: tsRange.from,
        toMs: tsRange.to,
        ids: part.map((u) => u.eventId),
        classes: part.map((u) => u.class),
        reasons: part.map((u) => [...u.reasons]),
        wasClasses: part.map((u) => u.was.class),
        wasReasons: part.map((u) => [...u.was.reasons]),
        ...(full ? { proxies: part.map((u) => u.proxy!), versions: part.map((u) => u.classifierVersion!) } : {}),
      },
      // chDB keeps settings on the connection: always pass the value this statement needs.
      clickhouse_settings: { mutations_sync: '2' },
    })
  }
  // An event that became human or stopped being human changes its recipient's engagement: the
  // per-recipient summary (migration 2500) is rebuilt from the events just updated, and the same
  // events' sequence step sends (migration 3300), which hold who opened, clicked and left as human or
  // machine, are computed again (sends of campaigns that are no step are none).
  const engagement = updates.filter((u) => (u.was.class === 'human') !== (u.class === 'human')).map((u) => u.eventId)
  if (engagement.length > 0) {
    const touched = await engagementOfEvents(store, engagement, tsRange)
    await refreshRecipientEngagement(store, touched.recipients)
    await recomputeSendFacts(store, touched)
    // Their sends' outcome bits (migration 3600), from the engagement just rebuilt.
    await recomputeSendOutcomes(store, touched.recipients)
  }
  for (const l of appliedListeners.get(store) ?? []) await l(updates, tsRange, origin)
}

/** One queue per event store: the second pass and reclassify never interleave in a process. */
const queues = new WeakMap<EventStore, Promise<unknown>>()

export function serialized<T>(store: EventStore, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(store) ?? Promise.resolve()
  const next = prev.then(fn, fn)
  queues.set(store, next.catch(() => undefined))
  return next
}
