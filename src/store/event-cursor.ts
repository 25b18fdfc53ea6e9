import { randomUUID } from 'node:crypto'
import { queryRows, type EventStore } from './clickhouse.js'

/**
 * One step of a table kept from events by a cursor on the writers' committed sequence
 * (sequence_send_facts, recipient_send_outcomes, sequence_conversions, each with its `<table>_cursor`):
 * `apply(from, to)` brings the table up to date for the events with from < seq <= to, then the cursor
 * moves to `committed`. Nothing new: one small read, `apply` not called. Returns what `apply` returned
 * (0 when nothing was new). A failure leaves the cursor where it was: the next step applies again.
 */
export async function advanceEventCursor(store: EventStore, cursorTable: string, committed: number, apply: (from: number, to: number) => Promise<number>): Promise<number> {
  const table = `${store.db}.${cursorTable}`
  const [cur] = await queryRows<{ seq: number }>(store, `SELECT max(seq) AS seq FROM ${table}`)
  const from = Number(cur?.seq ?? 0)
  if (committed <= from) return 0
  const applied = await apply(from, committed)
  await store.client.insert({
    table,
    format: 'JSONEachRow',
    values: [{ seq: committed, at: new Date().toISOString().slice(0, 23).replace('T', ' ') }],
    clickhouse_settings: { insert_deduplication_token: `${cursorTable}:${randomUUID()}`, async_insert: 0 },
  })
  return applied
}
