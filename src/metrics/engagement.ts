import { queryRows, type EventStore } from '../store/clickhouse.js'
import { invalid } from '../util/errors.js'
import { DAY_MS } from '../util/window.js'
import { csvField } from './audience.js'
import {
  ENGAGEMENT_STATUSES,
  engagementStatusSql,
  toRecipientEngagement,
  type EngagementStatus,
  type EngagementThresholds,
  type RecipientEngagement,
  type StatusRow,
} from './recipient-activity.js'

export interface EngagementScope {
  thresholds: EngagementThresholds
  /** Only these campaigns' sends and engagement (a category); undefined: all. */
  campaigns?: readonly string[] | undefined
}

export interface EngagementCounts {
  at: string
  /** Recipients sent to at or before `at`. */
  recipients: number
  counts: Record<EngagementStatus, number>
}

/** Recipients per status at `at`, one query. */
export async function engagementCounts(store: EventStore, at: number, scope: EngagementScope): Promise<EngagementCounts> {
  const q = engagementStatusSql(store.db, { at, ...scope })
  const rows = await queryRows<{ status: EngagementStatus; n: number }>(store, `SELECT status, count() AS n FROM (${q.sql}) GROUP BY status`, q.params)
  const counts = Object.fromEntries(ENGAGEMENT_STATUSES.map((s) => [s, 0])) as Record<EngagementStatus, number>
  for (const r of rows) counts[r.status] = Number(r.n)
  return { at: new Date(at).toISOString(), recipients: Object.values(counts).reduce((a, b) => a + b, 0), counts }
}

/** At most half a year of weekly points: each is one status query over the whole history. */
export const MAX_WEEKLY_POINTS = 27

/**
 * The counts every 7 days from `to` back to `from` (oldest first), to see a list decay or recover:
 * each point is the status as it was at that instant (later sends and events ignored).
 */
export async function engagementWeekly(store: EventStore, from: number, to: number, scope: EngagementScope): Promise<EngagementCounts[]> {
  if (from > to) throw invalid('query.from: must not be after query.to')
  const points: number[] = []
  for (let at = to; at >= from; at -= 7 * DAY_MS) points.unshift(at)
  if (points.length > MAX_WEEKLY_POINTS) throw invalid(`query.from: at most ${MAX_WEEKLY_POINTS} weekly points (${MAX_WEEKLY_POINTS - 1} weeks) per request, got ${points.length}`)
  // chDB answers one query at a time: sequential costs nothing more and keeps the order.
  const out: EngagementCounts[] = []
  for (const at of points) out.push(await engagementCounts(store, at, scope))
  return out
}

export interface WakeUpFilter extends EngagementScope {
  at: number
  statuses: EngagementStatus[]
  /** Only customers whose last purchase is at least this long before `at` (ms; kind `purchase`). */
  lastPurchaseBeforeMs?: number | undefined
  purchaseKind?: string | undefined
}

export interface WakeUpRow extends RecipientEngagement {
  lastPurchaseAt: string | null
}

/**
 * The recipients in the given statuses at `at` (the wake-up list across campaigns), streamed in
 * recipient order; the status is engagementStatusSql's, so the list is exactly what the counts count.
 */
export async function* wakeUpAudience(store: EventStore, f: WakeUpFilter): AsyncGenerator<WakeUpRow> {
  const q = engagementStatusSql(store.db, { at: f.at, thresholds: f.thresholds, campaigns: f.campaigns })
  const params: Record<string, unknown> = { ...q.params, statuses: f.statuses, kind: f.purchaseKind ?? 'purchase' }
  const purchase = f.lastPurchaseBeforeMs !== undefined
  if (purchase) params.purchaseBefore = f.at - f.lastPurchaseBeforeMs!
  const rs = await store.client.query({
    query: `SELECT st.*, ${purchase ? 'p.last_purchase' : '0'} AS last_purchase
            FROM (${q.sql}) AS st
            ${
              purchase
                ? `INNER JOIN (
                     SELECT recipient_id, toUnixTimestamp64Milli(max(ts)) AS last_purchase FROM ${store.db}.events
                     WHERE type = 'conversion' AND recipient_id != '' AND JSONExtractString(extra, 'kind') = {kind:String}
                       AND ts <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')
                     GROUP BY recipient_id
                   ) AS p USING (recipient_id)`
                : ''
            }
            WHERE status IN {statuses:Array(String)}${purchase ? ' AND last_purchase <= {purchaseBefore:Int64}' : ''}
            ORDER BY recipient_id`,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  })
  for await (const batch of rs.stream()) {
    for (const row of batch as Array<{ json<T>(): T }>) {
      const r = row.json<StatusRow & { last_purchase: number }>()
      yield { ...toRecipientEngagement(r), lastPurchaseAt: Number(r.last_purchase) > 0 ? new Date(Number(r.last_purchase)).toISOString() : null }
    }
  }
}

export const WAKE_UP_CSV_COLUMNS = ['recipient_id', 'status', 'last_open_at', 'last_click_at', 'sends', 'recent_sends', 'last_sent_at', 'last_purchase_at'] as const

export function wakeUpCsvLine(r: WakeUpRow): string {
  return (
    [r.recipientId, r.status, r.lastOpenAt ?? '', r.lastClickAt ?? '', String(r.sends), String(r.recentSends), r.lastSentAt ?? '', r.lastPurchaseAt ?? '']
      .map(csvField)
      .join(',') + '\r\n'
  )
}
