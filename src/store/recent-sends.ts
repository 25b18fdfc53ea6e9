import type { EventStore } from './clickhouse.js'

const DAY_MS = 86_400_000

/**
 * Days of sends `recipient_recent_sends` (migration 3400) keeps: its TTL drops a row whose latest send is
 * this old, and pruneRecentSends drops older sends from the other rows.
 */
export const RECENT_SENDS_DAYS = 40

/**
 * The earliest instant from which `recipient_recent_sends` holds every send (each campaign's latest per
 * recipient), at real time `now`: a day inside the horizon, for a ClickHouse server whose clock runs
 * ahead of this process's (the TTL is applied by the server's clock). The real clock, not an injected
 * one: the TTL deletes by real time.
 */
export function recentSendsFrom(now: number = Date.now()): number {
  return now - (RECENT_SENDS_DAYS - 1) * DAY_MS
}

/**
 * Drops from `recipient_recent_sends` the sends older than the horizon, in rows that also hold newer ones
 * (the TTL only drops a whole row). Only the table's size depends on it, never an answer: readers use
 * the table for windows inside the horizon alone. A mutation: it returns at once and ClickHouse rewrites
 * the column in the background (~1 M recipients: the size of the column, once); the rows it empties go
 * with the TTL's next merge. On a cluster the replicated table replicates the mutation. `wait`: returns
 * once it is done (tests).
 */
export async function pruneRecentSends(store: EventStore, o: { now?: number; wait?: boolean } = {}): Promise<void> {
  const now = o.now ?? Date.now()
  await store.client.command({
    query: `ALTER TABLE ${store.db}.recipient_recent_sends
      UPDATE sends = (arrayFilter((c, t) -> t > {cut:Int64}, sends.1, sends.2), arrayFilter(t -> t > {cut:Int64}, sends.2))
      WHERE arrayExists(t -> t <= {cut:Int64}, sends.2)${o.wait ? ' SETTINGS mutations_sync = 2' : ''}`,
    query_params: { cut: now - RECENT_SENDS_DAYS * DAY_MS },
  })
}

/** Prunes a minute after start, then every `everyMs` (6 hours); errors logged, never thrown. Returns a stop. */
export function startRecentSendsPrune(store: EventStore, onError: (err: Error) => void, everyMs = 6 * 3_600_000): () => void {
  const run = () => pruneRecentSends(store).catch((err: Error) => onError(err))
  const first = setTimeout(run, 60_000)
  const timer = setInterval(run, everyMs)
  first.unref()
  timer.unref()
  return () => {
    clearTimeout(first)
    clearInterval(timer)
  }
}
