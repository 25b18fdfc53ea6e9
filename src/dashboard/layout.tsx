import type { Child } from 'hono/jsx'
import { inCurrency } from '../conversions/money.js'
import type { Traffic } from '../metrics/sql.js'

export interface PageContext {
  /** The CSRF token of the session, for the sign-out form (null on the sign-in page). */
  csrf: string | null
  keyId: string | null
  /** The time zone times are shown in (chosen on a campaign page, remembered); UTC when none. */
  tz?: string
}

const WALL = new Map<string, Intl.DateTimeFormat>()

/**
 * An instant as the dashboard shows every time: `2026-12-05 14:03` in `tz` (24 h, minutes), one
 * format on every page; the zone is named once beside it (a caption, a heading).
 */
export function fmtTime(at: string | number | Date, tz = 'UTC'): string {
  const d = at instanceof Date ? at : new Date(at)
  if (Number.isNaN(d.getTime())) return '–'
  let f = WALL.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    WALL.set(tz, f)
  }
  const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

/** The date part of fmtTime: `2026-12-05` in `tz`. */
export const fmtDate = (at: string | number | Date, tz = 'UTC'): string => fmtTime(at, tz).slice(0, 10)

/** A time in the one format, with the exact instant (seconds, UTC) in the element for whoever needs it. */
export function Time(props: { at: string; tz?: string | undefined }) {
  return (
    <time datetime={props.at} title={`${props.at.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`}>
      {fmtTime(props.at, props.tz)}
    </time>
  )
}

export function Layout(props: { title: string; page: PageContext; children: Child; wide?: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · sillage`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
        <link rel="stylesheet" href="/dashboard/assets/uPlot.min.css" />
        <script src="/dashboard/assets/uPlot.iife.min.js" defer></script>
        <script src="/dashboard/assets/dashboard.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/dashboard">sillage</a>
          {props.page.csrf !== null && (
            <nav aria-label="Main">
              <a href="/dashboard">Campaigns</a>
              <a href="/dashboard/sequences">Sequences</a>
              <a href="/dashboard/compare">Compare</a>
              <a href="/dashboard/recipients">Recipients</a>
              <a href="/dashboard/pressure">Pressure</a>
              <a href="/dashboard/webhooks">Webhooks</a>
              <a href="/dashboard/lifecycle">Lifecycle</a>
              <form method="post" action="/dashboard/sign-out" class="inline">
                <input type="hidden" name="_csrf" value={props.page.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </nav>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  )
}

const TRAFFIC_LABEL: Record<Traffic, string> = { human: 'People', machine: 'Machines', all: 'All' }

/** Three links rather than a form: works without JS, each state has its own URL. */
export function TrafficToggle(props: { current: Traffic; href: (t: Traffic) => string }) {
  return (
    <nav class="toggle" aria-label="Traffic shown">
      <span class="toggle-label" id="traffic-label">Traffic:</span>
      {(['human', 'machine', 'all'] as const).map((t) => (
        <a href={props.href(t)} aria-current={t === props.current ? 'true' : undefined} data-traffic={t}>
          {TRAFFIC_LABEL[t]}
        </a>
      ))}
    </nav>
  )
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US')

export function fmtPct(v: number, digits = 1): string {
  return `${(v * 100).toFixed(digits)}%`
}

export function fmtSeconds(s: number | null): string {
  if (s === null) return '–'
  if (s < 90) return `${Math.round(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`
  return `${(s / 86400).toFixed(1)} d`
}

/** Money in its currency's own decimals (EUR 2, JPY 0, BHD 3) as the API gives it, with thousands grouped: one format everywhere. */
export function fmtMoney(amount: string, currency: string): string {
  const s = inCurrency(amount, currency)
  const neg = s.startsWith('-')
  const [i, f] = (neg ? s.slice(1) : s).split('.')
  return `${neg ? '-' : ''}${i!.replace(/\B(?=(\d{3})+$)/g, ',')}${f === undefined ? '' : '.' + f} ${currency}`
}

export function fmtRevenue(r: Record<string, string>): string {
  const parts = Object.entries(r).map(([cur, v]) => fmtMoney(v, cur))
  return parts.length ? parts.join(' + ') : '–'
}

/** A rate with its interval as a bar: the filled part is the value, the whisker the 95% interval. */
export function IntervalBar(props: { value: number; low: number; high: number; max: number; label: string }) {
  const scale = (v: number) => `${Math.min(100, (v / (props.max || 1)) * 100).toFixed(2)}%`
  return (
    <div class="ibar" role="img" aria-label={`${props.label}: ${fmtPct(props.value)} (95% interval ${fmtPct(props.low)} to ${fmtPct(props.high)})`}>
      <span class="ibar-fill" style={`width:${scale(props.value)}`}></span>
      <span class="ibar-ci" style={`left:${scale(props.low)};width:calc(${scale(props.high)} - ${scale(props.low)})`}></span>
    </div>
  )
}
