import type { AppDeps } from '../../deps.js'
import { engagementCounts, engagementWeekly, type EngagementCounts } from '../../metrics/engagement.js'
import { fatigueCurve, pressureDistribution, type FatigueBucket, type FatigueCurve, type PressureDistribution } from '../../metrics/pressure.js'
import { ENGAGEMENT_STATUSES, statusDefinitions, type EngagementThresholds } from '../../metrics/recipient-activity.js'
import type { Interval } from '../../metrics/statistics.js'
import { campaignCategories, fatigueScope } from '../../services/pressure.js'
import { DAY_MS, MAX_WINDOW_DAYS, parseWindowDays, windowName } from '../../util/window.js'
import { fmtDate, fmtInt, fmtPct, fmtTime, Layout, type PageContext } from '../layout.js'

/** The API's defaults (GET /v1/engagement), so the page and the API count the same people. */
const THRESHOLDS: EngagementThresholds = { activeDays: 30, inactiveDays: 90, minSends: 3 }
/** Sends measured by the fatigue curve: the 90 days before now, as GET /v1/pressure/fatigue. */
const FATIGUE_SPAN_DAYS = 90
/** Weekly engagement points when asked for: each is one status query over the whole history. */
const WEEKLY_POINTS = 9

export interface PressureQuery {
  window: string
  category: string
  weekly: boolean
}

export interface PressureView {
  q: PressureQuery
  categories: string[]
  error: string | null
  data: { fatigue: FatigueCurve; distribution: PressureDistribution; engagement: EngagementCounts; weekly: EngagementCounts[] | null } | null
}

/**
 * The page's data through the metrics the API uses (GET /v1/pressure/fatigue, /v1/pressure,
 * /v1/engagement), human traffic only as they count it. A bad window or an unknown category is a
 * message, not a query.
 */
export async function loadPressure(deps: Pick<AppDeps, 'meta' | 'events' | 'clock' | 'sequence'>, q: PressureQuery): Promise<PressureView> {
  const categories = [...new Set((await campaignCategories(deps)).values())].filter(Boolean).sort()
  const windowDays = parseWindowDays(q.window)
  let error: string | null = null
  if (windowDays === null) error = `Window: expected an ISO-8601 duration in days or weeks, like P7D, P30D or P2W (at most ${MAX_WINDOW_DAYS} days).`
  else if (q.category && !categories.includes(q.category)) error = 'Category: no campaign has this category.'
  if (error !== null || windowDays === null) return { q, categories, error, data: null }

  const to = deps.clock()
  const fatigueIn = await fatigueScope(deps, q.category || undefined)
  const campaigns = fatigueIn.campaigns ?? undefined
  const scope = { thresholds: THRESHOLDS, campaigns }
  // chDB answers one query at a time: these run one after the other anyway.
  const fatigue = await fatigueCurve(deps, { from: to - FATIGUE_SPAN_DAYS * DAY_MS, to, windowDays, ...fatigueIn })
  const distribution = await pressureDistribution(deps.events, { at: to, windowDays, campaigns })
  const weekly = q.weekly ? await engagementWeekly(deps.events, to - (WEEKLY_POINTS - 1) * 7 * DAY_MS, to, scope) : null
  const engagement = weekly?.at(-1) ?? (await engagementCounts(deps.events, to, scope))
  return { q, categories, error: null, data: { fatigue, distribution, engagement, weekly } }
}

const RATES = [
  ['openRate', 'opened', 'Open rate'],
  ['clickRate', 'clicked', 'Click rate'],
  ['unsubscribeRate', 'unsubscribed', 'Unsubscribe rate'],
  ['conversionRate', 'converted', 'Conversion rate'],
] as const

/** Chart data as percentages: a value and its interval per rate, one point per bucket (read by dashboard.js). */
function fatigueChart(buckets: FatigueBucket[]): string {
  // A bucket with no sends has no rate (its interval would be 0-100%): a gap in the line.
  const pct = (i: Interval, n: number) => [i.value, i.low, i.high].map((v) => (n ? Math.round(v * 10_000) / 100 : null))
  return JSON.stringify({
    labels: buckets.map((b) => b.label),
    rates: RATES.map(([key, , label]) => {
      const points = buckets.map((b) => pct(b[key], b.sends))
      return { label, value: points.map((p) => p[0]), low: points.map((p) => p[1]), high: points.map((p) => p[2]) }
    }),
  })
}

const STATUS_LABEL: Record<(typeof ENGAGEMENT_STATUSES)[number], string> = {
  active: 'Active',
  lapsing: 'Lapsing',
  inactive: 'Inactive',
  never_engaged: 'Never engaged',
  dormant: 'Dormant',
}

const rateCell = (r: Interval, digits: number) => (
  <>
    {fmtPct(r.value, digits)} <span class="muted">{`(${fmtPct(r.low, digits)}–${fmtPct(r.high, digits)})`}</span>
  </>
)

export function PressurePage(props: { view: PressureView; ctx: PageContext }) {
  const tz = props.ctx.tz ?? 'UTC'
  const { q, categories, error, data } = props.view
  return (
    <Layout title="Pressure" page={props.ctx}>
      <h1>Marketing pressure</h1>
      <form method="get" action="/dashboard/pressure" class="compare-form">
        <label>
          Window (P7D, P30D, P2W…) <input name="window" value={q.window} size={6} maxlength={16} />
        </label>
        <label>
          Category
          <select name="category">
            <option value="" selected={q.category === ''}>
              All campaigns
            </option>
            {categories.map((c) => (
              <option value={c} selected={c === q.category}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" name="weekly" value="1" checked={q.weekly} /> Weekly engagement ({WEEKLY_POINTS} points, slower)
        </label>
        <button type="submit">Show</button>
      </form>
      {error && (
        <p class="error" role="alert" id="pressure-error">
          {error}
        </p>
      )}
      {data && <PressureSections data={data} tz={tz} />}
    </Layout>
  )
}

function PressureSections(props: { data: NonNullable<PressureView['data']>; tz: string }) {
  const { fatigue: f, distribution: d, engagement: e, weekly } = props.data
  const tz = props.tz
  const win = windowName(f.windowDays)
  const maxHist = Math.max(1, ...d.histogram.map((h) => h.recipients))
  return (
    <>
      <p class="muted">People only: Apple MPP prefetches, scanners and other machines never count as opens, clicks or engagement.</p>
      <section aria-labelledby="h-fatigue">
        <h2 id="h-fatigue">Fatigue curve</h2>
        <p class="muted">
          {`Each send from ${fmtTime(f.from, tz)} to ${fmtTime(f.to, tz)} (${tz}), by the sends its recipient had received in the ${win} before it. Each rate: sends in the bucket whose recipient did it / sends in the bucket, with its 95% Wilson interval.`}
        </p>
        <div class="chart" id="fatigue-chart" data-fatigue={fatigueChart(f.buckets)} role="img" aria-label="Rates per bucket with their 95% intervals; the table below has the same numbers"></div>
        <table id="fatigue-table">
          <caption>{`Per bucket of sends in the preceding ${win}`}</caption>
          <thead>
            <tr>
              <th scope="col">Earlier sends</th>
              <th scope="col">Sends</th>
              {RATES.map(([, , label]) => (
                <th scope="col">{label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {f.buckets.map((b) => (
              <tr data-bucket={b.label}>
                <th scope="row">{b.label}</th>
                <td class="num" data-col="sends">
                  {fmtInt(b.sends)}
                </td>
                {RATES.map(([key, count]) => (
                  <td class="num" data-col={count}>
                    {`${fmtInt(b[count])} / ${fmtInt(b.sends)}`}
                    {b.sends > 0 && <> · {rateCell(b[key], key === 'openRate' || key === 'clickRate' ? 1 : 2)}</>}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="h-distribution">
        <h2 id="h-distribution">Messages per recipient</h2>
        <p id="distribution-summary">
          {`${fmtInt(d.sends)} sends to ${fmtInt(d.recipients)} recipients in the ${win} before ${fmtTime(d.at, tz)} ${tz} (everyone ever sent to, so those with none are the 0 row). Mean ${d.mean.toFixed(2)}; median ${d.percentiles.p50}, p90 ${d.percentiles.p90}, p99 ${d.percentiles.p99}, max ${d.percentiles.max}.`}
        </p>
        <table id="distribution-table">
          <thead>
            <tr>
              <th scope="col">Sends</th>
              <th scope="col">Recipients</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {d.histogram.map((h) => (
              <tr data-sends={String(h.sends)}>
                <th scope="row">{String(h.sends)}</th>
                <td class="num">{fmtInt(h.recipients)}</td>
                <td>
                  <div class="ibar" role="img" aria-label={`${fmtPct(d.recipients ? h.recipients / d.recipients : 0)} of recipients`}>
                    <span class="ibar-fill" style={`width:${((h.recipients / maxHist) * 100).toFixed(2)}%`}></span>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="h-engagement">
        <h2 id="h-engagement">Engagement</h2>
        <table id="engagement-table">
          <caption>{`${fmtInt(e.recipients)} recipients at ${fmtTime(e.at, tz)} ${tz}`}</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              {weekly ? weekly.map((w) => <th scope="col">{fmtDate(w.at, tz)}</th>) : <th scope="col">Recipients</th>}
              <th scope="col">Meaning</th>
            </tr>
          </thead>
          <tbody>
            {ENGAGEMENT_STATUSES.map((s) => (
              <tr data-status={s}>
                <th scope="row">{STATUS_LABEL[s]}</th>
                {(weekly ?? [e]).map((w) => (
                  <td class="num">{fmtInt(w.counts[s])}</td>
                ))}
                <td class="muted">{statusDefinitions(THRESHOLDS)[s]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  )
}
