import type { Comparison, CompareMetric } from '../../metrics/compare.js'
import type { ConversionComparison, ConversionMetric } from '../../metrics/conversion-compare.js'
import type { Traffic } from '../../metrics/sql.js'
import type { TimelinePage } from '../../metrics/timeline.js'
import type { FoundRecipient, RecentRecipient } from '../../metrics/recipient-search.js'
import type { Campaign } from '../../services/campaigns.js'
import { fmtInt, fmtMoney, fmtPct, fmtTime, IntervalBar, Layout, Time, TrafficToggle, type PageContext } from '../layout.js'
import { revenueVerdictText, Verdict } from './verdict.js'

export function SignInPage(props: { error: string | null; next: string }) {
  return (
    <Layout title="Sign in" page={{ csrf: null, keyId: null }}>
      <h1>Sign in</h1>
      <form method="post" action="/dashboard/sign-in" class="signin">
        <input type="hidden" name="next" value={props.next} />
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autocomplete="current-password" required aria-describedby={props.error ? 'signin-error' : undefined} />
        {props.error && (
          <p id="signin-error" class="error" role="alert">
            {props.error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">The admin key (TRACKER_ADMIN_KEY) or a key made with POST /v1/api-keys. It is checked once and never stored in the browser.</p>
    </Layout>
  )
}

export type DashboardCompareMetric = CompareMetric | Exclude<ConversionMetric, 'clicker_conversion_rate'>

const METRICS: Array<[DashboardCompareMetric, string]> = [
  ['click_rate', 'Click rate'],
  ['open_rate', 'Open rate'],
  ['click_to_open_rate', 'Click-to-open rate'],
  ['conversion_rate', 'Conversion rate'],
  ['revenue_per_recipient', 'Revenue per recipient'],
]

/** A conversion rate comparison has the rate comparison's shape (successes are converters): the same table and verdict. */
const asRates = (c: Comparison | ConversionComparison): Comparison =>
  ({ ...c, rows: c.rows.map((r) => ({ ...r, successes: r.successes ?? 0 })) }) as Comparison

export function ComparePage(props: {
  campaigns: Campaign[]
  selected: string[]
  metric: DashboardCompareMetric
  traffic: Traffic
  comparison: Comparison | ConversionComparison | null
  error: string | null
  ctx: PageContext
}) {
  const names = new Map(props.campaigns.map((c) => [c.id, c.name]))
  const money = props.comparison && props.metric === 'revenue_per_recipient' ? (props.comparison as ConversionComparison) : null
  const c = props.comparison && !money ? asRates(props.comparison) : null
  const max = c ? Math.max(0.0001, ...c.rows.map((r) => r.rate.high)) : 1
  const cur = money?.currency ?? ''
  const amount = (x: number) => fmtMoney(Math.max(0, x).toFixed(4), cur)
  const signed = (x: number) => `${x >= 0 ? '+' : '\u2212'}${fmtMoney(Math.abs(x).toFixed(4), cur)}`
  const qs = (t: Traffic) => {
    const p = new URLSearchParams({ metric: props.metric, traffic: t })
    for (const id of props.selected) p.append('campaigns', id)
    return `/dashboard/compare?${p}`
  }
  return (
    <Layout title="Compare campaigns" page={props.ctx}>
      <h1>Compare campaigns</h1>
      <form method="get" action="/dashboard/compare" class="compare-form">
        <input type="hidden" name="traffic" value={props.traffic} />
        <fieldset>
          <legend>Campaigns (the first checked is the reference)</legend>
          <div class="checks">
            {props.campaigns.map((cm) => (
              <label>
                <input type="checkbox" name="campaigns" value={cm.id} checked={props.selected.includes(cm.id)} /> {cm.name}
              </label>
            ))}
          </div>
        </fieldset>
        <label>
          Metric
          <select name="metric">
            {METRICS.map(([m, label]) => (
              <option value={m} selected={m === props.metric}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Compare</button>
      </form>
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      {c && (
        <section aria-labelledby="h-result">
          <h2 id="h-result">Result</h2>
          <TrafficToggle current={props.traffic} href={qs} />
          <p class="verdict" id="compare-verdict">
            <Verdict comparison={c} />
          </p>
          <table id="compare-table">
            <caption>{`${c.definition}, with 95% intervals`}</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Sent</th>
                <th scope="col">Successes / trials</th>
                <th scope="col">Rate</th>
                <th scope="col">Difference from the first</th>
              </tr>
            </thead>
            <tbody>
              {c.rows.map((r) => {
                const d = c.differences.find((x) => x.key === r.key)
                return (
                  <tr data-campaign-id={r.key}>
                    <th scope="row">{names.get(r.key) ?? r.key}</th>
                    <td class="num">{fmtInt(r.sent)}</td>
                    <td class="num">
                      {fmtInt(r.successes)} / {fmtInt(r.trials)}
                    </td>
                    <td>
                      <IntervalBar {...r.rate} max={max} label={names.get(r.key) ?? r.key} />
                      <span class="num">{fmtPct(r.rate.value)}</span> <span class="ci">({fmtPct(r.rate.low)}–{fmtPct(r.rate.high)})</span>
                    </td>
                    <td class="num">{d ? `${d.absolute.value >= 0 ? '+' : ''}${fmtPct(d.absolute.value, 2)} (${fmtPct(d.absolute.low, 2)} to ${fmtPct(d.absolute.high, 2)})` : 'reference'}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </section>
      )}
      {money && (
        <section aria-labelledby="h-result">
          <h2 id="h-result">Result</h2>
          <TrafficToggle current={props.traffic} href={qs} />
          <p class="verdict" id="compare-verdict">
            <strong>{revenueVerdictText(money)}</strong>
          </p>
          <table id="compare-table">
            <caption>{`Revenue per recipient in ${cur}: ${money.definition}, with 95% intervals (Welch)`}</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Sent</th>
                <th scope="col">Revenue per recipient</th>
                <th scope="col">Difference from the first</th>
              </tr>
            </thead>
            <tbody>
              {money.rows.map((r) => {
                const d = money.differences.find((x) => x.key === r.key)
                return (
                  <tr data-campaign-id={r.key}>
                    <th scope="row">{names.get(r.key) ?? r.key}</th>
                    <td class="num">{fmtInt(r.sent)}</td>
                    <td>
                      <span class="num">{fmtMoney(r.exact ?? '0', cur)}</span> <span class="ci">({amount(r.rate.low)}–{amount(r.rate.high)})</span>
                    </td>
                    <td class="num">{d ? `${signed(d.absolute.value)} (${signed(d.absolute.low)} to ${signed(d.absolute.high)})` : 'reference'}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </section>
      )}
    </Layout>
  )
}

export function RecipientPage(props: {
  id: string
  traffic: Traffic
  timeline: TimelinePage | null
  /** Recipients whose id starts with the one asked (with an id), or the latest active (without). */
  found: FoundRecipient[]
  recent: RecentRecipient[]
  ctx: PageContext
}) {
  const t = props.timeline
  const tz = props.ctx.tz ?? 'UTC'
  const qs = (traffic: Traffic, cursor?: string) => {
    const p = new URLSearchParams({ id: props.id, traffic })
    if (cursor) p.set('cursor', cursor)
    return `/dashboard/recipients?${p}`
  }
  return (
    <Layout title={props.id ? `Recipient ${props.id}` : 'Recipients'} page={props.ctx}>
      <h1>Recipients</h1>
      <form method="get" action="/dashboard/recipients" role="search">
        <input type="hidden" name="traffic" value={props.traffic} />
        <label for="recipient-id">Recipient id (or its beginning)</label>
        <input id="recipient-id" name="id" type="search" value={props.id} required maxlength={512} />
        <button type="submit">Show timeline</button>
      </form>
      {props.id !== '' && props.found.filter((f) => f.recipientId !== props.id).length > 0 && (
        <section aria-labelledby="h-found">
          <h2 id="h-found">Recipients whose id starts with “{props.id}”</h2>
          <ul id="found-recipients">
            {props.found.map((f) => (
              <li>
                <a href={`/dashboard/recipients?${new URLSearchParams({ id: f.recipientId, traffic: props.traffic })}`}>{f.recipientId}</a>
                <span class="muted small">
                  {' '}
                  {f.campaigns} {f.campaigns === 1 ? 'campaign' : 'campaigns'}
                  {f.lastSentAt ? `, last sent ${fmtTime(f.lastSentAt, tz)} ${tz}` : ''}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {props.id === '' && (
        <section aria-labelledby="h-recent">
          <h2 id="h-recent">Recent activity (7 days)</h2>
          {props.recent.length === 0 ? (
            <p>No opens, clicks or unsubscribes in the last 7 days.</p>
          ) : (
            <table id="recent-recipients">
              <thead>
                <tr>
                  <th scope="col">Recipient</th>
                  <th scope="col">Last event ({tz})</th>
                  <th scope="col">In campaign</th>
                  <th scope="col">Events</th>
                </tr>
              </thead>
              <tbody>
                {props.recent.map((r) => (
                  <tr>
                    <th scope="row">
                      <a href={`/dashboard/recipients?${new URLSearchParams({ id: r.recipientId, traffic: props.traffic })}`}>{r.recipientId}</a>
                    </th>
                    <td>
                      <Time at={r.lastAt} tz={tz} />
                    </td>
                    <td>
                      <a href={`/dashboard/campaigns/${encodeURIComponent(r.campaignId)}`}>{r.campaignId}</a>
                    </td>
                    <td class="num">{r.events}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      {t && (t.events.length > 0 || !props.found.some((f) => f.recipientId !== props.id)) && (
        <section aria-labelledby="h-timeline">
          <h2 id="h-timeline">Events of {t.recipientId}, newest first</h2>
          <TrafficToggle current={props.traffic} href={(x) => qs(x)} />
          {t.events.length === 0 ? (
            <p>No events for this recipient.</p>
          ) : (
            <table id="timeline-table">
              <thead>
                <tr>
                  <th scope="col">When ({tz})</th>
                  <th scope="col">Event</th>
                  <th scope="col">Campaign</th>
                  <th scope="col">Link</th>
                  <th scope="col">Traffic</th>
                  <th scope="col">Client</th>
                </tr>
              </thead>
              <tbody>
                {t.events.map((e) => (
                  <tr>
                    <td>
                      <Time at={e.at} tz={tz} />
                    </td>
                    <td>{e.type === 'conversion' && e.amount ? `conversion ${e.currency ? fmtMoney(e.amount, e.currency) : e.amount}` : e.type}</td>
                    <td>
                      <a href={`/dashboard/campaigns/${encodeURIComponent(e.campaignId)}`}>{e.campaignId}</a>
                    </td>
                    <td class="url">{e.link ? `${e.link.position !== null ? `#${e.link.position} ` : ''}${e.link.label || e.link.url || e.link.id}` : ''}</td>
                    <td>{e.class === 'human' ? 'person' : `${e.class}${e.reasons.length ? ` (${e.reasons.join(', ')})` : ''}`}</td>
                    <td>{[e.client.name, e.client.os, e.client.device].filter(Boolean).join(' · ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {t.next && (
            <p>
              <a href={qs(props.traffic, t.next)}>Older events</a>
            </p>
          )}
        </section>
      )}
    </Layout>
  )
}

const ERROR_TITLES: Record<number, string> = { 400: 'Bad request', 401: 'Not signed in', 403: 'Forbidden', 404: 'Not found', 413: 'Too large' }

/** Any refused or failed dashboard request: the API's message, in the dashboard's layout. */
export function ErrorPage(props: { status: number; message: string; requestId?: string | undefined; ctx: PageContext }) {
  const title = ERROR_TITLES[props.status] ?? (props.status >= 500 ? 'Something went wrong' : 'Error')
  return (
    <Layout title={title} page={props.ctx}>
      <h1>{title}</h1>
      <p class="error" role="alert" id="error-message">
        {props.message}
      </p>
      {props.requestId && <p class="muted">Request id: {props.requestId}</p>}
      <p>
        <a href="/dashboard">Back to the campaigns</a>
      </p>
    </Layout>
  )
}
