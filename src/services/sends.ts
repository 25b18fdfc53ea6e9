import { randomUUID } from 'node:crypto'
import type { AppDeps } from '../deps.js'
import { DomainError } from '../util/errors.js'
import { chDateTime } from '../store/clickhouse.js'
import { queueSendOutcomes } from '../store/send-outcomes.js'
import { clickUrl, pixelUrl } from '../tracking/urls.js'
import type { Link } from './campaigns.js'
import { checkSequenceStep, markStepSent } from './sequences.js'
import { applyPressure, type PressureMode } from './pressure.js'
import { partitionSuppressed, suppressedAmong, type OnSuppressed } from './suppressions.js'

export interface SendRecipient {
  id: string
  variant?: string | undefined
  segments?: string[] | undefined
  attributes?: Record<string, string> | undefined
  /** Not mailed: recorded in `holdouts` (the control group of a lift), never in `sends`. */
  holdout?: boolean | undefined
}

export interface TrackedUrls {
  id: string
  token: string
  pixelUrl: string
  links: Array<{ id: string; url: string }>
}

type Deps = Pick<AppDeps, 'events' | 'meta' | 'tokens' | 'config' | 'clock'>

/** Tracked URLs of one recipient: the token, the pixel, and each link's redirect, on `base` (the campaign's tracking domain: trackingBaseUrl). */
export function trackedUrls(deps: Pick<Deps, 'tokens' | 'config'>, campaignId: string, recipientId: string, links: Link[], base = deps.config.publicBaseUrl): TrackedUrls {
  const token = deps.tokens.sign(campaignId, recipientId)
  return {
    id: recipientId,
    token,
    pixelUrl: pixelUrl(base, campaignId, token),
    links: links.map((l) => ({ id: l.id, url: clickUrl(base, l.id, token) })),
  }
}

/** One row per recipient in `sends` (or in `holdouts` for recipients held out), in one insert. */
export async function recordSends(deps: Deps, campaignId: string, recipients: SendRecipient[], sentAt?: Date, table: 'sends' | 'holdouts' = 'sends'): Promise<void> {
  if (recipients.length === 0) return
  const at = chDateTime((sentAt ?? new Date(deps.clock())).getTime())
  await deps.events.client.insert({
    table: `${deps.events.db}.${table}`,
    values: recipients.map((r) => ({
      campaign_id: campaignId,
      recipient_id: r.id,
      [table === 'sends' ? 'sent_at' : 'held_at']: at,
      variant: r.variant ?? '',
      segments: r.segments ?? [],
      attributes: r.attributes ?? {},
    })),
    format: 'JSONEachRow',
    // Every insert names its own token: chDB keeps a token set earlier on the connection.
    clickhouse_settings: { insert_deduplication_token: `${table}:${randomUUID()}`, async_insert: 0 },
  })
  // Each recipient's sends with their outcome bits (migration 3600), for the fatigue curve: queued
  // after the insert (recipient_sends, filled by its view, now holds this send) and recomputed after
  // the answer, or by the next curve first (src/store/send-outcomes.ts).
  if (table === 'sends') await queueSendOutcomes(deps, recipients.map((r) => r.id))
}

/**
 * The sends of a call that names its recipients (POST /sends, a render): their suppressions looked
 * up, the suppressed skipped, included or refused as `onSuppressed` asks (a 409 before anything is
 * recorded, `refused` saying what was not done), then the pressure caps and readers' preferences
 * applied as `pressure` asks (services/pressure.ts), the rest recorded in one insert.
 */
export async function recordSendsUnlessSuppressed<R extends SendRecipient>(
  deps: Deps & Pick<AppDeps, 'meta'>,
  campaignId: string,
  recipients: R[],
  opts: { onSuppressed: OnSuppressed; sentAt?: Date | undefined; refused: string; pressure?: PressureMode | undefined; sequence?: { id: string; stepId: string } | undefined },
) {
  // A send that names a sequence step marks it sent (src/services/sequences.ts); checked before anything is recorded.
  const step = opts.sequence ? await checkSequenceStep(deps, campaignId, opts.sequence) : null
  const suppressed = await suppressedAmong(deps, campaignId, recipients.map((r) => r.id))
  const { kept, report } = partitionSuppressed(recipients, suppressed, opts.onSuppressed)
  if (opts.onSuppressed === 'reject' && report.count > 0) {
    throw new DomainError('conflict', `${report.count} recipient(s) are suppressed (onSuppressed: reject): ${opts.refused}`, { suppressed: report })
  }
  const sentAt = opts.sentAt ?? new Date(deps.clock())
  // Suppression first: a suppressed recipient is reported as such, never as capped.
  const held = await applyPressure(deps, campaignId, kept, { mode: opts.pressure ?? 'skip', at: sentAt.getTime() })
  await recordSends(deps, campaignId, held.kept, sentAt)
  const sequence = step ? await markStepSent(deps, step, held.kept.map((r) => r.id), sentAt) : undefined
  return { kept: held.kept, report, suppressed, pressure: held.report, sequence }
}
