import type { AudienceRow } from '../../metrics/audience.js'
import { fmtInt, Layout, type PageContext } from '../layout.js'

/** How a person names a link: its label (else its URL) and its position in the e-mail. */
export function linkName(l: { label: string; url: string; position: number }): string {
  return `${l.label || l.url} (#${l.position})`
}

export interface FollowUpView {
  campaign: { id: string; name: string }
  /** The filter in words, one phrase per condition. */
  conditions: string[]
  count: number
  /** The first rows, in recipient order. */
  rows: AudienceRow[]
  linkNames: ReadonlyMap<string, string>
  csvHref: string
}

export const FOLLOW_UP_ROWS = 200

/** Whom to follow up: the count first, then who, each opening their timeline, and the CSV of all of them. */
export function FollowUpPage(props: { view: FollowUpView; page: PageContext }) {
  const v = props.view
  const base = `/dashboard/campaigns/${encodeURIComponent(v.campaign.id)}`
  return (
    <Layout title={`Follow-up · ${v.campaign.name}`} page={props.page}>
      <p class="crumbs">
        <a href="/dashboard">Campaigns</a> › <a href={base}>{v.campaign.name}</a> ›
      </p>
      <h1>Whom to follow up</h1>
      <p id="follow-up-filter">{v.conditions.length ? v.conditions.join(', ') : 'Every recipient of the campaign'}.</p>
      <p class="follow-up-count">
        <strong id="follow-up-count">{fmtInt(v.count)}</strong> {v.count === 1 ? 'recipient' : 'recipients'}
        {' · '}
        <a href={v.csvHref} id="follow-up-csv" download>
          Download CSV ({fmtInt(v.count)} rows)
        </a>
      </p>
      {v.rows.length > 0 && (
        <div class="scroll">
          <table id="follow-up-table">
            <caption>{v.count > v.rows.length ? `The first ${fmtInt(v.rows.length)} of ${fmtInt(v.count)}; the CSV has them all` : 'All of them'}</caption>
            <thead>
              <tr>
                <th scope="col">Recipient</th>
                <th scope="col">Variant</th>
                <th scope="col">Segments</th>
                <th scope="col">Opens</th>
                <th scope="col">Clicks</th>
                <th scope="col">Links clicked</th>
              </tr>
            </thead>
            <tbody>
              {v.rows.map((r) => (
                <tr>
                  <th scope="row">
                    <a href={`/dashboard/recipients?${new URLSearchParams({ id: r.recipientId })}`}>{r.recipientId}</a>
                  </th>
                  <td>{r.variant}</td>
                  <td>{r.segments.join(', ')}</td>
                  <td class="num">{fmtInt(r.opens)}</td>
                  <td class="num">{fmtInt(r.clicks)}</td>
                  <td>{r.clickedLinks.map((l) => v.linkNames.get(l) ?? l).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  )
}
