import type { Link } from '../services/campaigns.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'
import { num, ratio, timeClauses, trafficAggregate, trafficCondition, type EventWindow } from './sql.js'

export interface LinkFigures {
  clicks: number
  uniqueClickers: number
  /** uniqueClickers / sent */
  shareOfRecipients: number
  /** uniqueClickers / unique clickers of any link of the campaign */
  shareOfClickers: number
  /** Unique openers who never clicked this link ("25% of readers ignore it"). */
  openersNotClicked: number
  /** openersNotClicked / unique openers */
  shareOfOpenersNotClicked: number
}

export interface LinkStats extends LinkFigures {
  linkId: string
  /** Where it leads now. */
  url: string
  label: string
  position: number
  /** 0: never changed; else the number of changes (GET …/links/:linkId/history). */
  version: number
  disabled: boolean
}

export interface UrlStats extends LinkFigures {
  /** A destination clicks went to; '' is the "offer ended" page of a retired link. */
  url: string
  /** The links whose clicks went there, or that lead there now. */
  linkIds: string[]
}

/** The ended page's URL inside the query: never a registered URL (those are absolute http(s)). */
const ENDED = 'ended:'
/** A click on a link id the campaign does not have: counted in no URL row. */
const UNKNOWN = 'unknown:'

export interface LinkStatsResult {
  campaignId: string
  traffic: EventWindow['traffic']
  sent: number
  uniqueOpeners: number
  uniqueClickers: number
  links: LinkStats[]
  byUrl: UrlStats[]
}

/**
 * The campaign's sent and unique openers and clickers for the same window, as campaignStats
 * counts them (opens.unique, clicks.unique): a caller that has them spares a scan.
 */
export interface LinkTotals {
  sent: number
  uniqueOpeners: number
  uniqueClickers: number
}

/**
 * Clicks per link (each position in the e-mail its own link) and per destination URL, every
 * registered link listed (zeros when never clicked). Uniques per URL are exact across its links.
 * A click counts under the URL it went to: a changed link's clicks carry it in `extra` (the edge
 * writes `{"to": …}` once a link has a version), earlier ones went to the URL it was created with.
 */
export async function linkStats(store: EventStore, campaignId: string, links: Link[], w: EventWindow = { traffic: 'human' }, totals?: LinkTotals): Promise<LinkStatsResult> {
  const db = store.db
  const t = trafficCondition(w.traffic)
  const time = timeClauses(w)
  const params = { campaign: campaignId, ids: links.map((l) => l.id), urls: links.map((l) => l.originalUrl ?? l.url), ...time.params }
  const base = `FROM ${db}.events WHERE campaign_id = {campaign:String} AND ${t}${time.sql}`
  // The campaign's openers: without a window from p_recipient_traffic (one row per recipient and
  // part), with one from the open events.
  const openersSql =
    w.from === undefined && w.to === undefined
      ? `SELECT cityHash64(recipient_id) FROM ${db}.events WHERE campaign_id = {campaign:String} AND recipient_id != '' GROUP BY recipient_id HAVING ${trafficAggregate('count', w.traffic, 'open')} > 0`
      : `SELECT DISTINCT cityHash64(recipient_id) ${base} AND type = 'open' AND recipient_id != ''`
  // Clicks per link and per URL (GROUPING SETS), with how many of each link's clickers opened: the
  // clicks are counted per link once, as uniqExact states that the URL rows merge, rather than
  // once for each grouping set.
  const [rows, [tot]] = await Promise.all([
    queryRows<{ link_id: string; url: string; clicks: number; uc: number; openers_clicked: number }>(
      store,
      `WITH openers AS (${openersSql})
       SELECT link_id, url, sum(n) AS clicks, uniqExactIfMerge(uc_) AS uc, uniqExactIfMerge(oc_) AS openers_clicked
       FROM (
         SELECT link_id, url, count() AS n,
                uniqExactIfState(h, recipient_id != '') AS uc_,
                uniqExactIfState(h, recipient_id != '' AND h IN openers) AS oc_
         FROM (
           SELECT link_id, recipient_id, cityHash64(recipient_id) AS h,
                  if(extra = '', transform(link_id, {ids:Array(String)}, {urls:Array(String)}, '${UNKNOWN}'),
                     if(JSONExtractString(extra, 'to') = '', '${ENDED}', JSONExtractString(extra, 'to'))) AS url
           ${base} AND type = 'click')
         GROUP BY link_id, url
       )
       GROUP BY GROUPING SETS ((link_id), (url), (link_id, url))`,
      params,
    ),
    totals
      ? [{ sent: totals.sent, openers: totals.uniqueOpeners, clickers: totals.uniqueClickers }]
      : queryRows<{ sent: number; openers: number; clickers: number }>(
          store,
          `SELECT (SELECT count() FROM ${db}.sends FINAL WHERE campaign_id = {campaign:String}) AS sent,
                  uniqExactIf(cityHash64(recipient_id), type = 'open') AS openers,
                  uniqExactIf(cityHash64(recipient_id), type = 'click') AS clickers
           ${base} AND type IN ('open', 'click') AND recipient_id != ''`,
          params,
        ),
  ])
  const sent = num(tot?.sent)
  const openers = num(tot?.openers)
  const clickers = num(tot?.clickers)
  const figures = (r: { clicks: number; uc: number; openers_clicked: number } | undefined): LinkFigures => {
    const uc = num(r?.uc)
    const notClicked = openers - num(r?.openers_clicked)
    return {
      clicks: num(r?.clicks),
      uniqueClickers: uc,
      shareOfRecipients: ratio(uc, sent),
      shareOfClickers: ratio(uc, clickers),
      openersNotClicked: notClicked,
      shareOfOpenersNotClicked: ratio(notClicked, openers),
    }
  }
  // Per-link rows have the url column at its default (''), per-URL rows the link_id column, the
  // (link, url) rows both: they say which links sent clicks where.
  const byLink = new Map(rows.filter((r) => r.link_id !== '' && r.url === '').map((r) => [r.link_id, r]))
  const byUrlRow = new Map(rows.filter((r) => r.link_id === '').map((r) => [r.url, r]))
  const linksOf = new Map<string, Set<string>>()
  const add = (url: string, id: string) => (linksOf.get(url) ?? linksOf.set(url, new Set()).get(url)!).add(id)
  for (const l of links) add(l.url, l.id)
  for (const r of rows) if (r.link_id !== '' && r.url !== '' && r.url !== UNKNOWN) add(r.url, r.link_id)
  const order = new Map(links.map((l, i) => [l.id, i]))
  return {
    campaignId,
    traffic: w.traffic,
    sent,
    uniqueOpeners: openers,
    uniqueClickers: clickers,
    links: links.map((l) => ({ linkId: l.id, url: l.url, label: l.label, position: l.position, version: l.version, disabled: l.disabled, ...figures(byLink.get(l.id)) })),
    byUrl: [...linksOf]
      .map(([url, ids]) => ({
        url: url === ENDED ? '' : url,
        linkIds: [...ids].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)),
        ...figures(byUrlRow.get(url)),
      }))
      .sort((a, b) => b.uniqueClickers - a.uniqueClickers || b.clicks - a.clicks || a.url.localeCompare(b.url)),
  }
}
