import type { AppDeps } from '../../deps.js'
import { conversionCandidates, conversionSummary, type ConversionFigures } from '../../metrics/conversion-summary.js'
import { groupCounts, type GroupCounts } from '../../metrics/facts.js'
import { campaignListFacts, type CampaignListFacts } from '../../metrics/campaign-list.js'
import type { Traffic } from '../../metrics/sql.js'
import { listCampaigns, type Campaign } from '../../services/campaigns.js'
import { fmtInt, fmtPct, fmtRevenue, Layout, Time, TrafficToggle, type PageContext } from '../layout.js'

export const PAGE_SIZE = 50

export interface CampaignRow {
  campaign: Campaign
  counts: GroupCounts
  conversions: ConversionFigures
  facts: CampaignListFacts
}

export const CAMPAIGN_SORTS = ['created', 'name', 'sent-at', 'sent', 'open-rate', 'click-rate', 'unsubscribes'] as const
export type CampaignSort = (typeof CAMPAIGN_SORTS)[number]

const rate = (n: number, d: number) => (d > 0 ? n / d : 0)

/** The rows of a page in the order asked: text and dates ascending, numbers largest first. */
export function sortCampaignRows(rows: CampaignRow[], sort: CampaignSort): CampaignRow[] {
  const by: Record<CampaignSort, (a: CampaignRow, b: CampaignRow) => number> = {
    created: () => 0,
    name: (a, b) => a.campaign.name.localeCompare(b.campaign.name),
    'sent-at': (a, b) => (a.facts.firstSentAt ?? '\uffff').localeCompare(b.facts.firstSentAt ?? '\uffff'),
    sent: (a, b) => b.counts.sent - a.counts.sent,
    'open-rate': (a, b) => rate(b.counts.uniqueOpeners, b.counts.sent) - rate(a.counts.uniqueOpeners, a.counts.sent),
    'click-rate': (a, b) => rate(b.counts.uniqueClickers, b.counts.sent) - rate(a.counts.uniqueClickers, a.counts.sent),
    unsubscribes: (a, b) => b.facts.unsubscribers - a.facts.unsubscribers,
  }
  return [...rows].sort(by[sort])
}

/** Sent, openers and clickers of a page of campaigns in one query (the compare endpoint's counts), then the conversions of those that have any, a few at a time. */
export async function loadCampaigns(deps: AppDeps, traffic: Traffic, page: number): Promise<{ rows: CampaignRow[]; more: boolean }> {
  const list = await listCampaigns(deps, { limit: PAGE_SIZE + 1, offset: page * PAGE_SIZE })
  const shown = list.slice(0, PAGE_SIZE)
  const ids = shown.map((c) => c.id)
  const counts = new Map(ids.length ? (await groupCounts(deps.events, ids, null, { traffic })).map((g) => [g.key, g]) : [])
  // Only the campaigns a conversion can be attributed to query theirs.
  const candidates = await conversionCandidates(deps.events, ids, { traffic })
  const facts = await campaignListFacts(deps.events, ids, traffic)
  const rows = await mapBounded(shown, CONVERSION_QUERIES_AT_ONCE, async (campaign): Promise<CampaignRow> => {
    const g = counts.get(campaign.id) ?? { key: campaign.id, sent: 0, uniqueOpeners: 0, uniqueClickers: 0, engaged: 0 }
    return { campaign, counts: g, facts: facts.get(campaign.id)!, conversions: await conversionSummary(deps.events, campaign.id, g.sent, { traffic, candidates }) }
  })
  return { rows, more: list.length > PAGE_SIZE }
}

/** Enough to overlap the engine's waits; few enough that a page of 50 does not queue 50 queries at once. */
const CONVERSION_QUERIES_AT_ONCE = 4

/** `items.map(fn)` with at most `limit` calls pending at a time; results in the order of `items`. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

export function CampaignsPage(props: { rows: CampaignRow[]; traffic: Traffic; page: number; more: boolean; sort: CampaignSort; ctx: PageContext }) {
  const tz = props.ctx.tz ?? 'UTC'
  const hasConversions = props.rows.some((r) => r.conversions.total > 0)
  const ratio = rate
  const href = (over: { sort?: CampaignSort; page?: number; traffic?: Traffic }) => {
    const p = new URLSearchParams({ traffic: over.traffic ?? props.traffic })
    const sort = over.sort ?? props.sort
    if (sort !== 'created') p.set('sort', sort)
    const page = over.page ?? props.page
    if (page > 0) p.set('page', String(page))
    return `/dashboard?${p}`
  }
  const header = (key: CampaignSort, label: string) => (
    <th scope="col" aria-sort={props.sort === key ? (key === 'name' || key === 'sent-at' ? 'ascending' : 'descending') : undefined}>
      <a href={href({ sort: key })}>{label}</a>
    </th>
  )
  return (
    <Layout title="Campaigns" page={props.ctx}>
      <h1>Campaigns</h1>
      <TrafficToggle current={props.traffic} href={(t) => href({ traffic: t })} />
      {props.rows.length === 0 ? (
        <p>No campaigns yet: create one with POST /v1/campaigns.</p>
      ) : (
        <table id="campaigns-table">
          <caption>Rates are unique recipients over sent; choose a column heading to sort this page (otherwise in the order they were created)</caption>
          <thead>
            <tr>
              {header('name', 'Campaign')}
              {header('sent-at', `First sent (${tz})`)}
              {header('sent', 'Sent')}
              {header('open-rate', 'Open rate')}
              {header('click-rate', 'Click rate')}
              {header('unsubscribes', 'Unsubscribes')}
              {hasConversions && <th scope="col">Conversions</th>}
              {hasConversions && <th scope="col">Revenue</th>}
            </tr>
          </thead>
          <tbody>
            {sortCampaignRows(props.rows, props.sort).map((r) => (
              <tr data-campaign-id={r.campaign.id}>
                <th scope="row">
                  <a href={`/dashboard/campaigns/${encodeURIComponent(r.campaign.id)}?traffic=${props.traffic}`}>{r.campaign.name}</a>
                  <span class="muted small"> {r.campaign.id}</span>
                </th>
                <td data-col="sent-at">{r.facts.firstSentAt ? <Time at={r.facts.firstSentAt} tz={tz} /> : '–'}</td>
                <td class="num" data-col="sent">{fmtInt(r.counts.sent)}</td>
                <td class="num" data-col="open-rate">{fmtPct(ratio(r.counts.uniqueOpeners, r.counts.sent))}</td>
                <td class="num" data-col="click-rate">{fmtPct(ratio(r.counts.uniqueClickers, r.counts.sent))}</td>
                <td class="num" data-col="unsubscribes">{fmtInt(r.facts.unsubscribers)}</td>
                {hasConversions && <td class="num">{r.conversions.total > 0 ? fmtInt(r.conversions.total) : '–'}</td>}
                {hasConversions && <td class="num">{fmtRevenue(r.conversions.revenue)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {props.page > 0 && <a href={href({ page: props.page - 1 })}>Previous page</a>}
        {props.more && <a href={href({ page: props.page + 1 })}>Next page</a>}
      </nav>
    </Layout>
  )
}
