import type { AppDeps } from '../../deps.js'
import { DomainError } from '../../util/errors.js'
import type { CampaignStats } from '../../metrics/campaign-stats.js'
import { attributedOrders } from '../../metrics/attributed-orders.js'
import { compareGroups, type Comparison } from '../../metrics/compare.js'
import { compareConversionsBy } from '../../metrics/conversion-compare.js'
import { conversionSummary, type ConversionFigures } from '../../metrics/conversion-summary.js'
import { linkStats, type LinkStats, type LinkStatsResult } from '../../metrics/link-stats.js'
import { withConversions, withIntervals, type SegmentConversionRow, type SegmentRow } from '../../metrics/segments.js'
import type { EventWindow, Traffic } from '../../metrics/sql.js'
import { timeseriesEach, type Bucket, type SeriesInterval } from '../../metrics/timeseries.js'
import { timingAndGroups, type TimingGroup } from '../../metrics/timing.js'
import { getCampaign, listLinks, type Campaign } from '../../services/campaigns.js'
import { getTemplate } from '../../services/templates.js'
import { clickMapHtml } from '../clickmap.js'
import { fmtInt, fmtMoney, fmtPct, fmtRevenue, fmtSeconds, fmtTime, IntervalBar, Layout, TrafficToggle, type PageContext } from '../layout.js'
import { linkName } from './follow-up.js'
import { reasonName } from './reasons.js'
import { Verdict } from './verdict.js'

/** Every zone the runtime knows, UTC first (the default). */
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]

export type LinkSort = 'position' | 'clicks' | 'unique'

export interface CampaignView {
  campaign: Campaign
  traffic: Traffic
  tz: string
  sort: LinkSort
  stats: CampaignStats
  conversions: ConversionFigures
  links: LinkStatsResult
  interval: SeriesInterval
  opens: Bucket[]
  clicks: Bucket[]
  /** With their conversions when the campaign has any (the segments endpoint's rows). */
  segments: Array<SegmentRow | SegmentConversionRow>
  variants: Array<SegmentRow | SegmentConversionRow>
  /** Revenue per recipient of each variant in the campaign's main currency, with its 95% interval (compare's revenue_per_recipient); null without revenue. */
  variantRevenue: VariantRevenue | null
  comparison: Comparison
  timing: TimingGroup | null
  clickMap: string | null
}

export interface VariantRevenue {
  currency: string
  byKey: Map<string, { exact: string; low: number; high: number }>
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Minutes when all the events fall within three hours, hours up to two weeks, days beyond: a readable number of points either way. */
export function seriesInterval(first: number, last: number): SeriesInterval {
  const span = last - first
  return span > 14 * DAY ? 'day' : span > 3 * HOUR ? 'hour' : 'minute'
}

/** Everything the campaign page shows, each number from the metrics function the REST API calls. */
export async function loadCampaign(deps: AppDeps, id: string, traffic: Traffic, tz: string, sort: LinkSort): Promise<CampaignView> {
  const campaign = await getCampaign(deps, id)
  const w: EventWindow = { traffic }
  const events = deps.events
  // The headline, the segment and variant bars and the timing from one pass over the campaign's
  // events joined to its sends: the functions behind the stats, timing and segments endpoints.
  const passP = timingAndGroups(events, id, null, tz, w, [{ kind: 'segment' }, { kind: 'variant' }], { stats: true })
  const statsP = passP.then((p) => p.stats!)
  // The series need the event span and the conversions need sent: they start as soon as the
  // stats are in.
  const afterStats = statsP.then(async (stats) => {
    const first = stats.firstEventAt ? Date.parse(stats.firstEventAt) : null
    const last = stats.lastEventAt ? Date.parse(stats.lastEventAt) : null
    const interval: SeriesInterval = first !== null && last !== null ? seriesInterval(first, last) : 'hour'
    const [[opens = [], clicks = []], conversions] = await Promise.all([
      // Both series from one scan, over the campaign's whole span (the timeseries endpoint's function).
      first !== null && last !== null ? timeseriesEach(events, id, ['opens', 'clicks'], interval, tz, { traffic, from: first, to: last + 1 }) : Promise.resolve([[], []]),
      conversionSummary(events, id, stats.sent, { traffic }),
    ])
    return { interval, opens, clicks, conversions }
  })
  const [stats, { interval, opens, clicks, conversions }, links, { timing: timingGroups, groups: [segments, variants] }, template] = await Promise.all([
    statsP,
    afterStats,
    // The link table's totals are the stats' own uniques: no second scan for them.
    Promise.all([listLinks(deps, id), statsP]).then(([registered, st]) =>
      linkStats(events, id, registered, w, { sent: st.sent, uniqueOpeners: st.opens.unique, uniqueClickers: st.clicks.unique }),
    ),
    passP.then(({ timing, groups: [s, v] }) => ({ timing, groups: [withIntervals(s!), withIntervals(v!)] as const })),
    getTemplate(deps, id).catch((err: unknown) => {
      if (err instanceof DomainError && err.code === 'not_found') return null
      throw err
    }),
  ])
  // The variant counts are already here: the test is compareVariants' own, without counting twice.
  const comparison = compareGroups(variants.filter((g) => g.key !== ''), 'click_rate', 0.05)
  // Conversions per variant and segment as GET /v1/campaigns/:id/segments gives them: one query for
  // both tables, none for a campaign without conversions.
  let groupsWithConversions: { segments: Array<SegmentRow | SegmentConversionRow>; variants: Array<SegmentRow | SegmentConversionRow> } = { segments, variants }
  let variantRevenue: VariantRevenue | null = null
  if (conversions.total > 0) {
    const orders = await attributedOrders(events, id, { traffic })
    groupsWithConversions = { segments: withConversions(segments, orders, { kind: 'segment' }), variants: withConversions(variants, orders, { kind: 'variant' }) }
    if (Object.keys(conversions.revenue).length > 0 && variants.some((g) => g.key !== '')) {
      const rpr = await compareConversionsBy(events, id, 'variant', 'revenue_per_recipient', 0.05, { traffic, dropEmptyKey: true })
      variantRevenue = { currency: rpr.currency!, byKey: new Map(rpr.rows.map((r) => [r.key, { exact: r.exact ?? '0', low: r.rate.low, high: r.rate.high }])) }
    }
  }
  let clickMap: string | null = null
  if (template) {
    const figures = new Map(links.links.map((l) => [l.linkId, l]))
    clickMap = clickMapHtml(
      template.compiled,
      template.links
        .filter((l) => l.part === 'html')
        .map((l) => ({ position: l.position, url: l.url, label: l.label, clicks: figures.get(l.id)?.clicks ?? 0, uniqueClickers: figures.get(l.id)?.uniqueClickers ?? 0 })),
    )
  }
  return {
    campaign,
    traffic,
    tz,
    sort,
    stats,
    conversions,
    links,
    interval,
    opens,
    clicks,
    segments: groupsWithConversions.segments,
    variants: groupsWithConversions.variants.filter((v) => v.key !== ''),
    variantRevenue,
    comparison,
    timing: timingGroups[0] ?? null,
    clickMap,
  }
}

const INTERVAL_SECONDS: Record<SeriesInterval, number> = { minute: 60, hour: 3600, day: 86_400 }

/**
 * The chart's points (seconds since the epoch). A lone bucket gets an empty one on each side: a
 * single point draws no line and leaves the time axis without a span to label. The neighbours are
 * true zeros, as the series runs from the first event to the last.
 */
export function chartSeries(opens: Bucket[], clicks: Bucket[], interval: SeriesInterval): { t: number[]; opens: number[]; clicks: number[] } {
  const t = opens.map((b) => Date.parse(b.start) / 1000)
  const o = opens.map((b) => b.value)
  const c = opens.map((_, i) => clicks[i]?.value ?? 0)
  if (t.length !== 1) return { t, opens: o, clicks: c }
  const step = INTERVAL_SECONDS[interval]
  return { t: [t[0]! - step, t[0]!, t[0]! + step], opens: [0, o[0]!, 0], clicks: [0, c[0]!, 0] }
}

export function sortLinks(links: LinkStats[], sort: LinkSort): LinkStats[] {
  const byPosition = (a: LinkStats, b: LinkStats) => a.position - b.position || a.linkId.localeCompare(b.linkId)
  if (sort === 'clicks') return [...links].sort((a, b) => b.clicks - a.clicks || byPosition(a, b))
  if (sort === 'unique') return [...links].sort((a, b) => b.uniqueClickers - a.uniqueClickers || byPosition(a, b))
  return [...links].sort(byPosition)
}

function Card(props: { label: string; value: string; detail?: string; id: string }) {
  return (
    <div class="card" data-metric={props.id}>
      <div class="card-label">{props.label}</div>
      <div class="card-value">{props.value}</div>
      {props.detail && <div class="card-detail">{props.detail}</div>}
    </div>
  )
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

/**
 * First events by weekday (rows, Monday first) and local hour (columns): one cell per hour of the
 * week, its colour from the largest cell, its count written in it (blank for none, so the hours
 * people act stand out). The counts are the timing endpoint's byWeekdayHour.
 */
function WeekHeatMap(props: { id: string; caption: string; week: number[][]; rgb: string; what: string }) {
  const max = Math.max(1, ...props.week.flat())
  return (
    <div class="scroll">
      <table class="heat" id={props.id}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {Array.from({ length: 24 }, (_, h) => (
              <th scope="col">{String(h).padStart(2, '0')}</th>
            ))}
            <th scope="col">All day</th>
          </tr>
        </thead>
        <tbody>
          {props.week.map((day, d) => (
            <tr>
              <th scope="row">{WEEKDAYS[d]}</th>
              {day.map((n, h) => (
                <td
                  data-day={d}
                  data-hour={h}
                  data-count={n}
                  title={`${WEEKDAYS[d]} ${String(h).padStart(2, '0')}:00–${String(h + 1).padStart(2, '0')}:00: ${fmtInt(n)} ${props.what}`}
                  style={n > 0 ? `background:rgba(${props.rgb},${(0.12 + 0.88 * (n / max)).toFixed(2)})${n / max > 0.55 ? ';color:#fff' : ''}` : undefined}
                >
                  {n > 0 ? fmtInt(n) : ''}
                </td>
              ))}
              <td class="num">{fmtInt(day.reduce((a, b) => a + b, 0))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const hasConversions = (r: SegmentRow | SegmentConversionRow): r is SegmentConversionRow => 'conversions' in r

/** An amount as a 4-decimal string for fmtMoney (interval bounds are floats from the metric). */
const moneyOf = (x: number, currency: string) => fmtMoney(Math.max(0, x).toFixed(4), currency)

function GroupTable(props: { caption: string; rows: Array<SegmentRow | SegmentConversionRow>; id: string; revenue?: VariantRevenue | null }) {
  const max = Math.max(0.0001, ...props.rows.flatMap((r) => [r.openRate.high, r.clickRate.high]))
  const withConv = props.rows.length > 0 && props.rows.every(hasConversions)
  const convRows = withConv ? (props.rows as SegmentConversionRow[]) : []
  const convMax = Math.max(0.0001, ...convRows.map((r) => r.conversionRate.high))
  const revenue = props.revenue ?? null
  return (
    <table id={props.id} class="groups">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Group</th>
          <th scope="col">Sent</th>
          <th scope="col">Open rate (95% interval)</th>
          <th scope="col">Click rate (95% interval)</th>
          {withConv && <th scope="col">Conversion rate: buyers / sent (95% interval)</th>}
          {withConv && <th scope="col">{revenue ? `Revenue per recipient, ${revenue.currency} (95% interval)` : 'Revenue per recipient: revenue / sent'}</th>}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr data-group={r.key}>
            <th scope="row">{r.key || '(none)'}</th>
            <td class="num">{fmtInt(r.sent)}</td>
            <td>
              <IntervalBar {...r.openRate} max={max} label={`Open rate of ${r.key || 'no group'}`} />
              <span class="num">{fmtPct(r.openRate.value)}</span> <span class="ci">({fmtPct(r.openRate.low)}–{fmtPct(r.openRate.high)})</span>
            </td>
            <td>
              <IntervalBar {...r.clickRate} max={max} label={`Click rate of ${r.key || 'no group'}`} />
              <span class="num">{fmtPct(r.clickRate.value)}</span> <span class="ci">({fmtPct(r.clickRate.low)}–{fmtPct(r.clickRate.high)})</span>
            </td>
            {hasConversions(r) && withConv && (
              <td data-col="conversion-rate">
                <IntervalBar {...r.conversionRate} max={convMax} label={`Conversion rate of ${r.key || 'no group'}`} />
                <span class="num">{fmtPct(r.conversionRate.value, 2)}</span> <span class="ci">({fmtPct(r.conversionRate.low, 2)}–{fmtPct(r.conversionRate.high, 2)})</span>{' '}
                <span class="ci" data-col="converters">
                  {fmtInt(r.conversions.converters)} / {fmtInt(r.sent)}
                </span>
              </td>
            )}
            {hasConversions(r) && withConv && (
              <td data-col="revenue-per-recipient">
                {revenue && revenue.byKey.has(r.key) ? (
                  <>
                    <span class="num">{fmtMoney(revenue.byKey.get(r.key)!.exact, revenue.currency)}</span>{' '}
                    <span class="ci">
                      ({moneyOf(revenue.byKey.get(r.key)!.low, revenue.currency)}–{moneyOf(revenue.byKey.get(r.key)!.high, revenue.currency)})
                    </span>
                  </>
                ) : (
                  <span class="num">{fmtRevenue(r.conversions.revenuePerRecipient)}</span>
                )}{' '}
                <span class="ci">
                  {fmtRevenue(r.conversions.revenue)} / {fmtInt(r.sent)}
                </span>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function CampaignPage(props: { view: CampaignView; page: PageContext }) {
  const v = props.view
  const s = v.stats
  const id = v.campaign.id
  const base = `/dashboard/campaigns/${encodeURIComponent(id)}`
  const qs = (over: Record<string, string>) => {
    const p = new URLSearchParams({ traffic: v.traffic, sort: v.sort, tz: v.tz, ...over })
    return `${base}?${p}`
  }
  const machineReasons = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, n]) => `${reasonName(k)} ${fmtInt(n)}`)
      .join(', ')
  // Machine events are not in the human figures: their share of all, when the page can know it.
  const machineShare = (kind: 'opens' | 'clicks') => {
    const machine = s.machine[kind].total
    const all = v.traffic === 'human' ? s[kind].total + machine : v.traffic === 'all' ? s[kind].total : null
    if (machine === 0 || all === null || all === 0) return null
    const reasons = machineReasons(s.machine[kind].byReason)
    return `${fmtPct(machine / all, 0)} of ${kind} were machines (${fmtInt(machine)} of ${fmtInt(all)}${reasons ? `: ${reasons}` : ''})`
  }
  const machineSentences = [machineShare('opens'), machineShare('clicks')].filter((x) => x !== null)
  const links = sortLinks(v.links.links, v.sort)
  const sortHeader = (key: LinkSort, label: string) => (
    <th scope="col" aria-sort={v.sort === key ? (key === 'position' ? 'ascending' : 'descending') : undefined}>
      <a href={qs({ sort: key }) + '#links'}>{label}</a>
    </th>
  )
  const seriesData = JSON.stringify(chartSeries(v.opens, v.clicks, v.interval))
  const hasRevenue = v.conversions.total > 0
  const linkOptions = sortLinks(v.links.links, 'position').map((l) => <option value={l.linkId}>{linkName(l)}</option>)
  return (
    <Layout title={v.campaign.name} page={props.page}>
      <p class="crumbs">
        <a href={`/dashboard?traffic=${v.traffic}`}>Campaigns</a> ›
      </p>
      <h1 id="campaign-name">{v.campaign.name}</h1>
      <p class="muted">
        Campaign <code>{id}</code>
        {s.firstEventAt && ` · events from ${fmtTime(s.firstEventAt, v.tz)} to ${fmtTime(s.lastEventAt!, v.tz)} (${v.tz})`}
      </p>
      <TrafficToggle current={v.traffic} href={(t) => qs({ traffic: t })} />
      <form method="get" action={base} class="tz-form" id="tz-form">
        <input type="hidden" name="traffic" value={v.traffic} />
        <input type="hidden" name="sort" value={v.sort} />
        <label>
          Time zone
          <select name="tz">
            {(TIME_ZONES.includes(v.tz) ? TIME_ZONES : [v.tz, ...TIME_ZONES]).map((z) => (
              <option value={z} selected={z === v.tz}>
                {z}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>

      <section aria-labelledby="h-headline">
        <h2 id="h-headline">Headline</h2>
        <div class="cards">
          <Card id="sent" label="Sent" value={fmtInt(s.sent)} />
          <Card id="unique-openers" label="Unique openers" value={fmtInt(s.opens.unique)} detail={`${fmtInt(s.opens.total)} opens`} />
          <Card id="open-rate" label="Open rate" value={fmtPct(s.rates.open.value)} detail={s.rates.open.definition} />
          <Card id="unique-clickers" label="Unique clickers" value={fmtInt(s.clicks.unique)} detail={`${fmtInt(s.clicks.total)} clicks`} />
          <Card id="click-rate" label="Click rate" value={fmtPct(s.rates.click.value)} detail={s.rates.click.definition} />
          <Card id="click-to-open" label="Click-to-open" value={fmtPct(s.rates.clickToOpen.value)} />
          <Card id="unsubscribes" label="Unsubscribes" value={fmtInt(s.unsubscribes.unique)} detail={fmtPct(s.rates.unsubscribe.value, 2)} />
          <Card id="machine-opens" label="Machine opens (not counted above)" value={fmtInt(s.machine.opens.total)} detail={machineReasons(s.machine.opens.byReason) || undefined} />
          <Card id="scanner-clicks" label="Scanner clicks (not counted above)" value={fmtInt(s.machine.clicks.total)} detail={machineReasons(s.machine.clicks.byReason) || undefined} />
          <Card id="time-to-open" label="Median time to open" value={fmtSeconds(s.timeToFirstOpen.medianSeconds)} detail={`p90 ${fmtSeconds(s.timeToFirstOpen.p90Seconds)}`} />
          {hasRevenue && <Card id="conversions" label="Conversions" value={fmtInt(v.conversions.total)} detail={`${fmtInt(v.conversions.converters)} buyers, ${fmtPct(v.conversions.rate, 2)} of sent`} />}
          {hasRevenue && <Card id="revenue" label="Revenue" value={fmtRevenue(v.conversions.revenue)} />}
        </div>
      </section>

      {machineSentences.length > 0 && (
        <p id="machine-summary" class="muted">
          {machineSentences.join('; ')}. They are kept, labelled and left out of the figures above; one event can have several reasons, so the reasons may add up to more.
        </p>
      )}

      <section aria-labelledby="h-time">
        <h2 id="h-time">Opens and clicks over time</h2>
        {v.opens.length === 0 ? (
          <p>No opens or clicks yet.</p>
        ) : (
          <>
            <div
              class="chart"
              id="series-chart"
              data-series={seriesData}
              data-tz={v.tz}
              data-interval={v.interval}
              role="img"
              aria-label={`Opens and clicks per ${v.interval} (${v.tz}); the table below has the same numbers`}
            ></div>
            <details>
              <summary>Opens and clicks per {v.interval} (table)</summary>
              <table id="series-table">
                <caption>Per {v.interval}, {v.tz}</caption>
                <thead>
                  <tr>
                    <th scope="col">Start</th>
                    <th scope="col">Opens</th>
                    <th scope="col">Clicks</th>
                  </tr>
                </thead>
                <tbody>
                  {v.opens.map((b, i) => (
                    <tr>
                      <th scope="row">{fmtTime(b.start, v.tz)}</th>
                      <td class="num">{fmtInt(b.value)}</td>
                      <td class="num">{fmtInt(v.clicks[i]?.value ?? 0)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </>
        )}
      </section>

      <section aria-labelledby="h-links" id="links">
        <h2 id="h-links">Links</h2>
        <table id="links-table">
          <caption>Clicks per link; choose a column heading to sort</caption>
          <thead>
            <tr>
              {sortHeader('position', 'Position')}
              <th scope="col">Link</th>
              {sortHeader('clicks', 'Clicks')}
              {sortHeader('unique', 'Unique clickers')}
              <th scope="col">Share of clickers</th>
              <th scope="col">Openers who did not click</th>
              <th scope="col">Follow up</th>
            </tr>
          </thead>
          <tbody>
            {links.map((l) => (
              <tr data-link-id={l.linkId}>
                <td class="num">{l.position}</td>
                <td class="url">
                  {l.label && <span class="label">{l.label}</span>}
                  <span class="dest">{l.url}</span>
                  {l.version > 0 && (
                    <span class="changed" title={`Changed ${l.version} time${l.version > 1 ? 's' : ''} since it was sent: GET /v1/campaigns/${v.campaign.id}/links/${l.linkId}/history`}>
                      {l.disabled ? 'retired' : 'changed'}
                    </span>
                  )}
                </td>
                <td class="num" data-col="clicks">{fmtInt(l.clicks)}</td>
                <td class="num" data-col="unique">{fmtInt(l.uniqueClickers)}</td>
                <td class="num">{fmtPct(l.shareOfClickers)}</td>
                <td class="num">{fmtPct(l.shareOfOpenersNotClicked)}</td>
                <td class="follow">
                  <a href={`${base}/follow-up?${new URLSearchParams({ clicked: l.linkId, traffic: v.traffic })}`} data-follow="clicked">
                    clickers
                  </a>
                  {' · '}
                  <a href={`${base}/follow-up?${new URLSearchParams({ clicked: l.linkId, converted: 'false', convertedWithinDays: '7', traffic: v.traffic })}`} data-follow="no-purchase">
                    no purchase in 7 days
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {v.links.byUrl.some((u) => u.linkIds.length > 1) && (
        <section aria-labelledby="h-destinations">
          <h2 id="h-destinations">By destination</h2>
          <table id="destinations-table">
            <caption>Links to the same page (an image and a button, say) summed; unique clickers counted once across them</caption>
            <thead>
              <tr>
                <th scope="col">Destination</th>
                <th scope="col">Links</th>
                <th scope="col">Clicks</th>
                <th scope="col">Unique clickers</th>
                <th scope="col">Share of clickers</th>
              </tr>
            </thead>
            <tbody>
              {[...v.links.byUrl].sort((a, b) => b.clicks - a.clicks).map((u) => (
                <tr>
                  <td class="url">{u.url}</td>
                  <td>{u.linkIds.map((lid) => v.links.links.find((l) => l.linkId === lid)).filter((l) => l !== undefined).map((l) => linkName(l)).join(', ')}</td>
                  <td class="num">{fmtInt(u.clicks)}</td>
                  <td class="num">{fmtInt(u.uniqueClickers)}</td>
                  <td class="num">{fmtPct(u.shareOfClickers)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <section aria-labelledby="h-map" id="click-map">
        <h2 id="h-map">Click map</h2>
        {v.clickMap === null ? (
          <p>This campaign has no stored template: the click map needs one (POST /v1/campaigns/{id}/templates).</p>
        ) : (
          <>
            <p class="muted">
              The e-mail as sent; each badge gives the link's clicks and its share of all clicks on the template's links, coloured from amber (few)
              to deep red (the most clicked), grey when nobody clicked. Remote images are not loaded: fetching them
              would tell their servers someone looked, and a tracking pixel among them would count an open; grey boxes of their size stand in for them.
            </p>
            <iframe class="clickmap" title={`Click map of ${v.campaign.name}`} sandbox="allow-same-origin" srcdoc={v.clickMap} referrerpolicy="no-referrer"></iframe>
          </>
        )}
      </section>

      {(v.variants.length > 0 || v.segments.some((r) => r.key !== '')) && (
        <section aria-labelledby="h-groups">
          <h2 id="h-groups">Variants and segments</h2>
          {v.variants.length > 1 && (
            <p class="verdict" id="variant-verdict">
              <Verdict comparison={v.comparison} />
            </p>
          )}
          {v.variants.length > 0 && <GroupTable id="variants-table" caption="Variants" rows={v.variants} revenue={v.variantRevenue} />}
          {v.segments.some((r) => r.key !== '') && <GroupTable id="segments-table" caption="Segments" rows={v.segments.filter((r) => r.key !== '')} />}
        </section>
      )}

      {v.timing && (
        <section aria-labelledby="h-timing">
          <h2 id="h-timing">When people react ({v.tz})</h2>
          <WeekHeatMap id="heat-opens" caption={`First opens by day and hour (${v.tz}), ${v.traffic === 'human' ? 'people only' : v.traffic === 'machine' ? 'machines only' : 'people and machines'}`} week={v.timing.firstOpen.byWeekdayHour} rgb="21,101,192" what="first opens" />
          <WeekHeatMap id="heat-clicks" caption={`First clicks by day and hour (${v.tz}), ${v.traffic === 'human' ? 'people only' : v.traffic === 'machine' ? 'machines only' : 'people and machines'}`} week={v.timing.firstClick.byWeekdayHour} rgb="179,38,30" what="first clicks" />
        </section>
      )}

      <section aria-labelledby="h-audience">
        <h2 id="h-audience">Follow up: find and export an audience</h2>
        <form method="get" action={`${base}/audience.csv`} class="audience" id="audience-form">
          <input type="hidden" name="traffic" value={v.traffic} />
          <input type="hidden" name="tz" value={v.tz} />
          <label>
            Opened
            <select name="opened">
              <option value="">either</option>
              <option value="true">opened</option>
              <option value="false">never opened</option>
            </select>
          </label>
          <label>
            Clicked
            <select name="clicked">
              <option value="">any link or none</option>
              {linkOptions}
            </select>
          </label>
          <label>
            Did not click
            <select name="notClicked">
              <option value="">—</option>
              {linkOptions}
            </select>
          </label>
          <label>
            Segment
            <select name="segment">
              <option value="">all</option>
              {v.segments.filter((r) => r.key !== '').map((r) => (
                <option value={r.key}>{r.key}</option>
              ))}
            </select>
          </label>
          <label>
            Variant
            <select name="variant">
              <option value="">all</option>
              {v.variants.map((r) => (
                <option value={r.key}>{r.key}</option>
              ))}
            </select>
          </label>
          <label>
            Events from ({v.tz})
            <input type="datetime-local" name="from" step="60" />
          </label>
          <label>
            to
            <input type="datetime-local" name="to" step="60" />
          </label>
          <label>
            Attribute
            <input type="text" name="attribute" placeholder="country:FR" maxlength={300} pattern="[^:]+:.*" title="NAME:VALUE, an attribute of the send" />
          </label>
          <label>
            Bought
            <select name="converted">
              <option value="">either</option>
              <option value="false">did not buy</option>
              <option value="true">bought</option>
            </select>
          </label>
          <label>
            within (days of the send)
            <input type="number" name="convertedWithinDays" min="1" max="9999" step="1" placeholder="7" />
          </label>
          <button type="submit" formaction={`${base}/follow-up`}>
            Show the list
          </button>
          <button type="submit">Download CSV</button>
        </form>
      </section>
    </Layout>
  )
}
