import { attributedConversionsSql, type AttributionOptions } from './attribution.js'

/**
 * Audience filter: a condition on the outer query's `recipient_id` column, true for recipients with
 * (converted) or without (not converted) a conversion attributed to the campaign bound as {campaign:String}.
 * With `withinMs`, only conversions at most that long after the recipient's send count
 * ("clicked link 2 but did not buy within a week": `clicked … AND <convertedFilterSql({converted: false, withinMs: 7d})>`).
 * Binds {touchKey:String} and {window:Int64} besides {campaign:String}: merge the params into the query's.
 */
export function convertedFilterSql(db: string, opts: { converted: boolean; withinMs?: number | undefined; attribution?: Omit<AttributionOptions, 'from' | 'to'> }): { sql: string; params: Record<string, unknown> } {
  const a = attributedConversionsSql(db, { ...opts.attribution, from: undefined, to: undefined })
  const within =
    opts.withinMs === undefined
      ? ''
      : ` INNER JOIN (SELECT recipient_id, sent_at FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}) AS cs ON cs.recipient_id = a.recipient_id
          WHERE a.ts >= cs.sent_at AND a.ts <= cs.sent_at + toIntervalMillisecond({convertedWithin:UInt64})`
  const sql = `recipient_id ${opts.converted ? 'IN' : 'NOT IN'} (WITH ${a.sql} SELECT a.recipient_id FROM attributed AS a${within})`
  return { sql, params: { ...a.params, ...(opts.withinMs === undefined ? {} : { convertedWithin: Math.round(opts.withinMs) }) } }
}
