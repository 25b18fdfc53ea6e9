import { queryRows, type EventStore } from '../store/clickhouse.js'
import { invalid } from '../util/errors.js'
import { DAY_MS } from '../util/window.js'
import { csvField } from './audience.js'
import {
  ENGAGEMENT_STATUSES,
  engagementStatusSql,
  mergedRecipientSends,
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
  const sends = await mergedRecipientSends(store)
  const q = engagementStatusSql(store.db, { at, ...scope }, { statusOnly: true, sendsRows: sends.sql })
  const rows = await queryRows<{ status: EngagementStatus; n: number }>(store, `SELECT status, count() AS n FROM (${q.sql}) GROUP BY status`, { ...q.params, ...sends.params })
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
  /** Recipients per query (default 10 000): chDB runs one query at a time, so each page is a short one. */
  pageSize?: number | undefined
}

export interface WakeUpRow extends RecipientEngagement {
  lastPurchaseAt: string | null
}

/**
 * The recipients in the given statuses at `at` (the wake-up list across campaigns), in recipient
 * order, page by page (each page starts after the last recipient of the previous one); the status
 * is engagementStatusSql's, so the list is exactly what the counts count. The wake-up list and the
 * cross-campaign triggers both read it: the same thresholds select the same people.
 */
export async function* wakeUpAudience(store: EventStore, f: WakeUpFilter): AsyncGenerator<WakeUpRow> {
  const pageSize = f.pageSize ?? 10_000
  const purchase = f.lastPurchaseBeforeMs !== undefined
  let after: string | undefined
  for (;;) {
    const q = engagementStatusSql(store.db, { at: f.at, thresholds: f.thresholds, campaigns: f.campaigns, after })
    const params: Record<string, unknown> = { ...q.params, statuses: f.statuses, kind: f.purchaseKind ?? 'purchase', page: pageSize }
    if (purchase) params.purchaseBefore = f.at - f.lastPurchaseBeforeMs!
    const rows = await queryRows<StatusRow & { last_purchase: number }>(
      store,
      `SELECT st.*, ${purchase ? 'p.last_purchase' : '0'} AS last_purchase
       FROM (${q.sql}) AS st
       ${
         purchase
           ? `INNER JOIN (
                SELECT recipient_id, toUnixTimestamp64Milli(max(ts)) AS last_purchase FROM ${store.db}.events
                WHERE type = 'conversion' AND recipient_id != '' AND JSONExtractString(extra, 'kind') = {kind:String}
                  AND ts <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')${after !== undefined ? ' AND recipient_id > {after:String}' : ''}
                GROUP BY recipient_id
              ) AS p USING (recipient_id)`
           : ''
       }
       WHERE status IN {statuses:Array(String)}${purchase ? ' AND last_purchase <= {purchaseBefore:Int64}' : ''}
       ORDER BY recipient_id
       LIMIT {page:UInt32}`,
      params,
    )
    for (const r of rows) yield { ...toRecipientEngagement(r), lastPurchaseAt: Number(r.last_purchase) > 0 ? new Date(Number(r.last_purchase)).toISOString() : null }
    if (rows.length < pageSize) return
    after = rows[rows.length - 1]!.recipient_id
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
