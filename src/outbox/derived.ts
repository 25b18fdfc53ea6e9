import { createHash } from 'node:crypto'
import type { AppDeps } from '../deps.js'
import { SEQ_ROW_BITS, seqBase } from '../events/sequence.js'
import { chDateTime, queryRows } from '../store/clickhouse.js'

export interface DerivedEvent {
  id: string
  type: 'email.reclassified' | 'audience.entered'
  ts: number
  campaignId: string
  recipientId: string
  class?: string
  prevClass?: string
  afterSettle?: boolean
  data: Record<string, unknown>
}

/** A deterministic envelope id: the same change always gets the same id. */
export function derivedId(prefix: string, ...parts: string[]): string {
  return prefix + createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 24)
}

const CHUNK = 2 ** SEQ_ROW_BITS

/**
 * Stores derived events under sequence numbers, like the writer's batches: a batch number taken
 * before the insert and given back after, so stream readers never pass it while it is in flight.
 */
export async function storeDerived(deps: Pick<AppDeps, 'events' | 'sequence'>, events: readonly DerivedEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += CHUNK) {
    const part = events.slice(i, i + CHUNK)
    const batch = deps.sequence.reserve()
    try {
      const base = seqBase(batch)
      await deps.events.client.insert({
        table: `${deps.events.db}.outbox_events`,
        format: 'JSONEachRow',
        values: part.map((e, j) => ({
          event_id: e.id,
          seq: base + j,
          type: e.type,
          ts: chDateTime(e.ts),
          campaign_id: e.campaignId,
          recipient_id: e.recipientId,
          class: e.class ?? '',
          prev_class: e.prevClass ?? '',
          after_settle: e.afterSettle ? 1 : 0,
          data: JSON.stringify(e.data),
        })),
        clickhouse_settings: { insert_deduplication_token: `outbox:${deps.events.db}:${batch}`, async_insert: 0 },
      })
    } finally {
      deps.sequence.commit(batch)
    }
  }
}

/** Which of these derived ids are already stored (a retry after a crash stores only the others). */
export async function storedDerivedIds(deps: Pick<AppDeps, 'events'>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await queryRows<{ event_id: string }>(
    deps.events,
    `SELECT event_id FROM ${deps.events.db}.outbox_events WHERE event_id IN {ids:Array(String)}`,
    { ids: [...ids] },
  )
  return new Set(rows.map((r) => r.event_id))
}
