import type { AppDeps } from '../deps.js'
import { queryRows } from '../store/clickhouse.js'
import { isoFromCh } from './sql.js'

export interface RecipientSequenceEntry {
  sequenceId: string
  enteredAt: string
  status: string
  steps: Array<{ stepId: string; campaignId: string; sentAt: string }>
  exit: { reason: string; stepId: string; at: string } | null
}

/**
 * A recipient's entries into sequences, oldest first: when they entered, the steps sent and how
 * the entry ended. Two small queries narrowed by the tables' bloom filters on recipient_id.
 */
export async function recipientSequences(deps: Pick<AppDeps, 'events'>, recipientId: string): Promise<RecipientSequenceEntry[]> {
  const db = deps.events.db
  const entries = await queryRows<{ sequence_id: string; entered_at: string; status: string; exit_reason: string; exit_step_id: string; exited_at: string }>(
    deps.events,
    `SELECT sequence_id, toString(entered_at) AS entered_at, status, exit_reason, exit_step_id, toString(exited_at) AS exited_at
     FROM ${db}.sequence_enrollments FINAL WHERE recipient_id = {r:String} ORDER BY entered_at, sequence_id`,
    { r: recipientId },
  )
  if (entries.length === 0) return []
  const sends = await queryRows<{ sequence_id: string; entered_at: string; step_id: string; campaign_id: string; sent_at: string }>(
    deps.events,
    `SELECT sequence_id, toString(entered_at) AS entered_at, step_id, campaign_id, toString(sent_at) AS sent_at
     FROM ${db}.sequence_sends FINAL WHERE recipient_id = {r:String} ORDER BY sent_at, step_id`,
    { r: recipientId },
  )
  return entries.map((e) => ({
    sequenceId: e.sequence_id,
    enteredAt: isoFromCh(e.entered_at) ?? new Date(0).toISOString(),
    status: e.status,
    steps: sends
      .filter((x) => x.sequence_id === e.sequence_id && x.entered_at === e.entered_at)
      .map((x) => ({ stepId: x.step_id, campaignId: x.campaign_id, sentAt: isoFromCh(x.sent_at) ?? '' })),
    exit: e.status === 'exited' ? { reason: e.exit_reason, stepId: e.exit_step_id, at: isoFromCh(e.exited_at) ?? '' } : null,
  }))
}
