import { randomUUID } from 'node:crypto'
import type { AppDeps } from '../api/context.js'
import { chDateTime } from '../store/clickhouse.js'
import { clickUrl, pixelUrl } from '../tracking/urls.js'
import type { Link } from './campaigns.js'

export interface SendRecipient {
  id: string
  variant?: string | undefined
  segments?: string[] | undefined
  attributes?: Record<string, string> | undefined
}

export interface TrackedUrls {
  id: string
  token: string
  pixelUrl: string
  links: Array<{ id: string; url: string }>
}

type Deps = Pick<AppDeps, 'events' | 'tokens' | 'config' | 'clock'>

/** Tracked URLs of one recipient: the token, the pixel, and each link's redirect. */
export function trackedUrls(deps: Pick<Deps, 'tokens' | 'config'>, campaignId: string, recipientId: string, links: Link[]): TrackedUrls {
  const token = deps.tokens.sign(campaignId, recipientId)
  const base = deps.config.publicBaseUrl
  return {
    id: recipientId,
    token,
    pixelUrl: pixelUrl(base, campaignId, token),
    links: links.map((l) => ({ id: l.id, url: clickUrl(base, l.id, token) })),
  }
}

/** One row per recipient in `sends`, in one insert. */
export async function recordSends(deps: Deps, campaignId: string, recipients: SendRecipient[], sentAt?: Date): Promise<void> {
  if (recipients.length === 0) return
  const at = chDateTime((sentAt ?? new Date(deps.clock())).getTime())
  await deps.events.client.insert({
    table: `${deps.events.db}.sends`,
    values: recipients.map((r) => ({
      campaign_id: campaignId,
      recipient_id: r.id,
      sent_at: at,
      variant: r.variant ?? '',
      segments: r.segments ?? [],
      attributes: r.attributes ?? {},
    })),
    format: 'JSONEachRow',
    // Every insert names its own token: chDB keeps a token set earlier on the connection.
    clickhouse_settings: { insert_deduplication_token: `sends:${randomUUID()}`, async_insert: 0 },
  })
}
