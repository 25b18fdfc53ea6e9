import { queryRows, type EventStore } from '../store/clickhouse.js'
import { attributedConversionsSql, grouped, moneyFigures, type AttributionOptions, type GroupRow, type Revenue } from './attribution.js'
import { timeClauses } from './sql.js'

export interface ConversionFigures {
  /** Orders attributed (each order id once). */
  total: number
  /** Distinct recipients among them. */
  converters: number
  /** converters / sent. */
  rate: number
  revenue: Revenue
}

/**
 * The `conversions` object of campaign, link, segment and variant metrics. Rates are fractions with
 * their denominators stated: `rate` = converters / sent, `clickerRate` = converters / clickers.
 */
export interface ConversionBlock extends ConversionFigures {
  clickers: number
  clickerRate: number
  /** revenue / sent, per currency. */
  revenuePerRecipient: Revenue
  /** revenue / orders in that currency. */
  averageOrderValue: Revenue
}

export function conversionBlock(g: GroupRow | undefined, sent: number, clickers: number): ConversionBlock {
  const converters = g?.converters ?? 0
  return {
    total: g?.conversions ?? 0,
    converters,
    rate: sent > 0 ? converters / sent : 0,
    clickers,
    clickerRate: clickers > 0 ? converters / clickers : 0,
    ...moneyFigures(g, sent),
  }
}

/**
 * The `conversions` object of campaign stats: `{total, converters, rate (converters / sent), revenue, …}`.
 * `candidates` (from conversionCandidates, for the same options) spares the query of a campaign
 * no conversion can be attributed to: it gets the empty block the query would have given.
 */
export async function conversionSummary(
  store: EventStore,
  campaignId: string,
  sent: number,
  opts: AttributionOptions & { clickers?: number; candidates?: ReadonlySet<string> } = {},
): Promise<ConversionBlock> {
  const totals = opts.candidates && !opts.candidates.has(campaignId) ? undefined : await conversionTotals(store, campaignId, opts)
  return conversionBlock(totals, sent, opts.clickers ?? 0)
}

/**
 * Which of `campaignIds` any conversion could be attributed to (attributedConversionsSql's
 * rules): one carrying the campaign, or a recipient-only one whose recorded last touch names
 * it. Any other campaign's attributed set is empty: its candidate rows are only recipient-only
 * conversions touching other campaigns, which attribution drops. One query for a page of
 * campaigns instead of one per campaign (the campaigns list: ~8 ms each, with or without
 * conversions).
 */
export async function conversionCandidates(store: EventStore, campaignIds: string[], opts: AttributionOptions = {}): Promise<Set<string>> {
  if (campaignIds.length === 0) return new Set()
  const a = attributedConversionsSql(store.db, opts)
  const t = timeClauses({ from: opts.from, to: opts.to })
  const rows = await queryRows<{ c: string }>(
    store,
    `SELECT DISTINCT if(campaign_id != '', campaign_id, JSONExtractString(extra, {touchKey:String}, 'campaign')) AS c
     FROM ${store.db}.events
     WHERE type = 'conversion'
       AND (campaign_id IN {campaigns:Array(String)} OR (campaign_id = '' AND link_id = '' AND recipient_id != ''))${t.sql}`,
    { campaigns: campaignIds, touchKey: a.params.touchKey, ...t.params },
  )
  const wanted = new Set(campaignIds)
  return new Set(rows.map((r) => r.c).filter((c) => wanted.has(c)))
}

/** A campaign's attributed conversions in one row (undefined when none). */
export async function conversionTotals(store: EventStore, campaignId: string, opts: AttributionOptions = {}): Promise<GroupRow | undefined> {
  return (await grouped(store, campaignId, opts, `''`))[0]
}
