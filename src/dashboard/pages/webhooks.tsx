import type { AppDeps } from '../../deps.js'
import { endpointHealth, getEndpointRow, listDeliveries, listEndpoints, publicEndpoint, type PublicEndpoint } from '../../outbox/endpoints.js'
import { statusDefinitions } from '../../metrics/recipient-activity.js'
import { crossCampaignThresholds, listTriggers } from '../../outbox/triggers.js'
import { fmtInt, fmtPct, Layout, Time, type PageContext } from '../layout.js'

type Health = Awaited<ReturnType<typeof endpointHealth>>
type Trigger = Awaited<ReturnType<typeof listTriggers>>[number]

export async function loadWebhooks(deps: AppDeps) {
  const endpoints = await listEndpoints(deps)
  const health = await Promise.all(endpoints.map((e) => endpointHealth(deps, e.id)))
  return { endpoints: endpoints.map((e, i) => ({ endpoint: e, health: health[i]! })), triggers: await listTriggers(deps) }
}

export async function loadWebhook(deps: AppDeps, id: string, status: 'pending' | 'succeeded' | 'failed' | undefined) {
  const endpoint = publicEndpoint(await getEndpointRow(deps, id))
  const [health, deliveries] = await Promise.all([endpointHealth(deps, id), listDeliveries(deps, id, { status, limit: 50, offset: 0 })])
  return { endpoint, health, deliveries, status }
}

function State(props: { e: PublicEndpoint }) {
  if (!props.e.enabled) return <span class="error">Disabled: {props.e.disabledReason ?? 'unknown reason'}</span>
  if (props.e.failingSince) return <span class="error">Failing since {props.e.failingSince}</span>
  return <span>Healthy</span>
}

function successRate(h: Health): string {
  const n = h.succeededLastDay + h.failedLastDay
  return n ? `${fmtPct(h.succeededLastDay / n)} of ${fmtInt(n)}` : '–'
}

export function WebhooksPage(props: { endpoints: Array<{ endpoint: PublicEndpoint; health: Health }>; triggers: Trigger[]; ctx: PageContext }) {
  return (
    <Layout title="Webhooks" page={props.ctx}>
      <h1>Webhooks</h1>
      {props.endpoints.length === 0 ? (
        <p>No endpoint yet: create one with POST /v1/webhooks.</p>
      ) : (
        <table id="webhooks-table">
          <caption>Delivered in the last day: succeeded over succeeded and failed deliveries</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Waiting</th>
              <th scope="col">Failed</th>
              <th scope="col">Delivered (day)</th>
            </tr>
          </thead>
          <tbody>
            {props.endpoints.map(({ endpoint: e, health: h }) => (
              <tr data-endpoint-id={e.id}>
                <th scope="row">
                  <a href={`/dashboard/webhooks/${encodeURIComponent(e.id)}`}>{e.url}</a>
                  <span class="muted small"> {e.settle === 'verdict' ? 'settled verdicts' : 'edge verdicts'}, {e.traffic} traffic</span>
                </th>
                <td>{e.events.join(', ')}</td>
                <td><State e={e} /></td>
                <td class="num">{fmtInt(h.pending)}</td>
                <td class="num">{fmtInt(h.failed)}</td>
                <td class="num">{successRate(h)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Triggers</h2>
      {props.triggers.length === 0 ? (
        <p>No trigger yet: create one with POST /v1/triggers.</p>
      ) : (
        <table id="triggers-table">
          <thead>
            <tr>
              <th scope="col">Trigger</th>
              <th scope="col">Audience</th>
              <th scope="col">Members</th>
              <th scope="col">Last run ({props.ctx.tz ?? 'UTC'})</th>
            </tr>
          </thead>
          <tbody>
            {props.triggers.map((t) => (
              <tr data-trigger-id={t.id}>
                <th scope="row">{t.name} <span class="muted small">{t.id}</span></th>
                <td>
                  {'campaignId' in t.audience
                    ? `campaign ${t.audience.campaignId}: ${Object.entries(t.audience.filter).map(([k, v]) => `${k}=${String(v)}`).join(', ') || 'everyone sent'}`
                    : `${t.audience.status ?? 'inactive'}: ${statusDefinitions(crossCampaignThresholds(t.audience))[t.audience.status ?? 'inactive']}`}
                </td>
                <td class="num">{fmtInt(t.members ?? 0)}</td>
                <td>{t.lastError ? <span class="error">{t.lastError}</span> : (t.lastRunAt ? <Time at={t.lastRunAt} tz={props.ctx.tz} /> : 'not yet')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  )
}

export function WebhookPage(props: { view: Awaited<ReturnType<typeof loadWebhook>>; ctx: PageContext; notice?: string | null }) {
  const { endpoint: e, health: h, deliveries, status } = props.view
  const base = `/dashboard/webhooks/${encodeURIComponent(e.id)}`
  return (
    <Layout title={`Webhook ${e.url}`} page={props.ctx}>
      <p class="crumbs"><a href="/dashboard/webhooks">Webhooks</a></p>
      <h1>{e.url}</h1>
      {props.notice && <p class="verdict" role="status">{props.notice}</p>}
      <div class="cards">
        <div class="card"><div class="card-label">State</div><div class="card-value small"><State e={e} /></div></div>
        <div class="card"><div class="card-label">Waiting</div><div class="card-value">{fmtInt(h.pending)}</div></div>
        <div class="card"><div class="card-label">Failed</div><div class="card-value">{fmtInt(h.failed)}</div></div>
        <div class="card"><div class="card-label">Delivered, last day</div><div class="card-value small">{successRate(h)}</div></div>
      </div>
      <p class="muted small">Events: {e.events.join(', ')}; {e.traffic} traffic; {e.settle === 'verdict' ? 'opens and clicks after the second pass' : 'at once, with email.reclassified'}; {e.batch ? `batches of up to ${e.batch.maxEvents}` : 'one event per request'}.</p>
      <nav class="toggle" aria-label="Deliveries shown">
        <span class="toggle-label">Deliveries:</span>
        {([undefined, 'failed', 'pending', 'succeeded'] as const).map((st) => (
          <a href={st ? `${base}?status=${st}` : base} aria-current={st === status ? 'true' : undefined}>{st ?? 'all'}</a>
        ))}
      </nav>
      <table id="deliveries-table">
        <caption>The {fmtInt(deliveries.items.length)} newest of {fmtInt(deliveries.total)}</caption>
        <thead>
          <tr>
            <th scope="col">Created ({props.ctx.tz ?? 'UTC'})</th>
            <th scope="col">Type</th>
            <th scope="col">webhook-id</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">Next attempt</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {deliveries.items.map((d) => (
            <tr data-delivery-id={d.id} data-status={d.status}>
              <td>
                <Time at={d.createdAt} tz={props.ctx.tz} />
              </td>
              <td>{d.type}{d.replay ? ' (replay)' : ''}</td>
              <td class="small">{d.msgId}</td>
              <td>{d.status}</td>
              <td class="num">{d.attempts}</td>
              <td>
                {d.lastStatus ?? ''} {d.lastError && d.status !== 'succeeded' ? d.lastError : ''}
                {d.responseExcerpt && d.status !== 'succeeded' && <pre class="small">{d.responseExcerpt}</pre>}
              </td>
              <td>{d.nextAttemptAt ? <Time at={d.nextAttemptAt} tz={props.ctx.tz} /> : ''}</td>
              <td>
                {d.status !== 'succeeded' && (
                  <form method="post" action={`${base}/deliveries/${encodeURIComponent(d.id)}/retry`} class="inline">
                    <input type="hidden" name="_csrf" value={props.ctx.csrf ?? ''} />
                    <button type="submit">Retry now</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Replay</h2>
      <form method="post" action={`${base}/replay`} class="audience" id="replay-form">
        <input type="hidden" name="_csrf" value={props.ctx.csrf ?? ''} />
        <label>From (UTC) <input type="datetime-local" name="from" required /></label>
        <label>To (UTC) <input type="datetime-local" name="to" required /></label>
        <button type="submit">Deliver this range again</button>
        <p class="muted small">The same envelope ids as the first time: a receiver that deduplicates on webhook-id sees nothing twice.</p>
      </form>
    </Layout>
  )
}
