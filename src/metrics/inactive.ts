import type { EventStore } from '../store/clickhouse.js'
import { queryRows } from '../store/clickhouse.js'

export interface InactiveOptions {
  /** No human open or click for this long (ms before `now`). */
  inactiveMs: number
  /** At least this many sends, across campaigns. */
  minSends: number
  now: number
  /** Recipients per query: each page is a short query (chDB runs one at a time). */
  pageSize?: number
}

/**
 * Recipients, across campaigns, with at least `minSends` sends, the first of them at least
 * `inactiveMs` ago (they had that long to react), and no human open or click with a valid token
 * in the last `inactiveMs`. Machine traffic (an Apple MPP prefetch, a scanner's click) is not
 * activity. Streamed in recipient order, page by page.
 */
export async function* inactiveRecipients(store: EventStore, o: InactiveOptions): AsyncGenerator<string> {
  const db = store.db
  const pageSize = o.pageSize ?? 10_000
  let after = ''
  for (;;) {
    // The page is cut on the sends' recipients; each carries whether it was active, so the next page starts after the last read.
    const rows = await queryRows<{ recipient_id: string; active: number }>(
      store,
      `SELECT recipient_id, recipient_id IN (
           SELECT recipient_id FROM ${db}.events
           WHERE type IN ('open', 'click') AND class = 'human' AND token_valid AND recipient_id > {after:String}
             AND ts >= fromUnixTimestamp64Milli({cutoff:Int64}, 'UTC')
         ) AS active
       FROM (
         SELECT recipient_id, count() AS sends, min(sent_at) AS first_sent FROM ${db}.sends FINAL
         WHERE recipient_id > {after:String} AND recipient_id != ''
         GROUP BY recipient_id
         HAVING sends >= {minSends:UInt32} AND first_sent <= fromUnixTimestamp64Milli({cutoff:Int64}, 'UTC')
         ORDER BY recipient_id
         LIMIT {page:UInt32}
       )
       ORDER BY recipient_id`,
      { after, minSends: o.minSends, cutoff: o.now - o.inactiveMs, page: pageSize },
    )
    for (const r of rows) if (!Number(r.active)) yield r.recipient_id
    if (rows.length < pageSize) return
    after = rows[rows.length - 1]!.recipient_id
  }
}
