import { eq } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import { eraseSendOutcomes } from '../store/send-outcomes.js'
import { preferenceChanges, recipientPreferences, suppressions } from '../store/schema.js'
import { eraseFromSequences } from './sequences.js'

export interface ErasureResult {
  recipientId: string
  events: number
  sends: number
  /** Scopes of the suppressions kept, so the person is never e-mailed again. */
  suppressionsKept: string[]
}

/**
 * Right to erasure: the recipient's events and sends are deleted from ClickHouse; only their
 * suppression entries remain (needed to honour the opt-out). The journal is flushed first so
 * events already received are in ClickHouse when the delete runs. Remaining race: an event
 * that arrives (a late click on an old e-mail) between the flush and the end of the mutation,
 * or after it, is stored again; erasing twice, or after the mail can no longer be opened, closes it.
 */
export async function eraseRecipient(deps: Pick<AppDeps, 'events' | 'meta' | 'writer' | 'clock'>, recipientId: string): Promise<ErasureResult> {
  await deps.writer.flush()
  const { db } = deps.events
  const params = { r: recipientId }
  const [counted] = await queryRows<{ events: number; sends: number }>(
    deps.events,
    `SELECT (SELECT count() FROM ${db}.events WHERE recipient_id = {r:String}) AS events,
            (SELECT count() FROM ${db}.sends FINAL WHERE recipient_id = {r:String}) AS sends`,
    params,
  )
  // The metadata store first: if it refuses the id, nothing has been erased yet.
  const kept = await deps.meta.db.select({ scope: suppressions.scope }).from(suppressions).where(eq(suppressions.recipientId, recipientId))
  // Their preferences and the history of them go too: unlike a suppression, nothing needs them once the person is gone.
  await deps.meta.db.delete(recipientPreferences).where(eq(recipientPreferences.recipientId, recipientId))
  await deps.meta.db.delete(preferenceChanges).where(eq(preferenceChanges.recipientId, recipientId))
  // mutations_sync = 2 in the statement itself: it returns once the rows are gone, and a
  // setting in the SETTINGS clause does not stay on chDB's connection.
  await deps.events.client.command({ query: `ALTER TABLE ${db}.events DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  await deps.events.client.command({ query: `ALTER TABLE ${db}.sends DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // The per-recipient summary of sends (migration 2300) lists the campaigns they were sent and when.
  await deps.events.client.command({ query: `ALTER TABLE ${db}.recipient_sends DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // The cap check's recent sends (migration 3400): the same, hashed campaign ids of the last 40 days.
  await deps.events.client.command({ query: `ALTER TABLE ${db}.recipient_recent_sends DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // The per-recipient summary of human engagement (migration 2500) lists the campaigns they opened, clicked or left, and when.
  await deps.events.client.command({ query: `ALTER TABLE ${db}.recipient_engagement DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // …and its per-day summary (migration 3500): the days they opened or clicked.
  await deps.events.client.command({ query: `ALTER TABLE ${db}.recipient_engagement_days DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // Their sends with outcome bits (migration 3600) and their queued recomputes, after the two
  // summaries it is computed from: a recompute starting later finds no sends of theirs, and the
  // delete waits for the catch-up running in this process (src/store/send-outcomes.ts).
  await eraseSendOutcomes(deps, recipientId)
  await deps.events.client.command({ query: `ALTER TABLE ${db}.purchases DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // The per-customer summary of purchases (migration 1700) holds their order times and amounts: gone with the rest.
  await deps.events.client.command({ query: `ALTER TABLE ${db}.customer_orders DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  await deps.events.client.command({ query: `ALTER TABLE ${db}.holdouts DELETE WHERE recipient_id = {r:String} SETTINGS mutations_sync = 2`, query_params: params })
  // Their sequence entries and history go too; their id stays, so no sequence enrols them again.
  await eraseFromSequences(deps, recipientId)
  return { recipientId, events: Number(counted?.events ?? 0), sends: Number(counted?.sends ?? 0), suppressionsKept: kept.map((k) => k.scope) }
}
