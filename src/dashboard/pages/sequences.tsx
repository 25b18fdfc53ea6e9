import type { AppDeps } from '../../deps.js'
import { sequenceFunnel, type Cohort, type Funnel, type FunnelStep, type Rate } from '../../metrics/sequence-funnel.js'
import type { Traffic } from '../../metrics/sql.js'
import { catchUpSequenceMirror, enrollmentCounts, getSequence, listSequences, type Sequence } from '../../services/sequences.js'
import { fmtInt, fmtPct, fmtSeconds, IntervalBar, Layout, TrafficToggle, type PageContext } from '../layout.js'

export interface SequenceRow {
  sequence: Sequence
  counts: { active: number; completed: number; exited: number }
}

/** The first 200 sequences with their enrolments by status (the metadata store's counts). */
export async function loadSequences(deps: Pick<AppDeps, 'meta'>): Promise<SequenceRow[]> {
  const { rows } = await listSequences(deps, { limit: 200, offset: 0 })
  return Promise.all(rows.map(async (sequence) => ({ sequence, counts: await enrollmentCounts(deps, sequence.id) })))
}

export function SequencesPage(props: { rows: SequenceRow[]; ctx: PageContext }) {
  return (
    <Layout title="Sequences" page={props.ctx}>
      <h1>Sequences</h1>
      {props.rows.length === 0 ? (
        <p>No sequences yet: create one with POST /v1/sequences.</p>
      ) : (
        <table id="sequences-table">
          <caption>Enrolments by status now</caption>
          <thead>
            <tr>
              <th scope="col">Sequence</th>
              <th scope="col">Steps</th>
              <th scope="col">Active</th>
              <th scope="col">Completed</th>
              <th scope="col">Exited</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr data-sequence-id={r.sequence.id}>
                <th scope="row">
                  <a href={`/dashboard/sequences/${encodeURIComponent(r.sequence.id)}`}>{r.sequence.name}</a>
                  <span class="muted small"> {r.sequence.id}</span>
                </th>
                <td>{r.sequence.steps.map((s) => s.offset).join(' → ')}</td>
                <td class="num">{fmtInt(r.counts.active)}</td>
                <td class="num">{fmtInt(r.counts.completed)}</td>
                <td class="num">{fmtInt(r.counts.exited)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  )
}

export interface SequenceView {
  sequence: Sequence
  funnel: Funnel
  traffic: Traffic
  cohort: Cohort
}

export async function loadSequence(deps: Pick<AppDeps, 'meta' | 'events' | 'sequence' | 'clock'>, id: string, traffic: Traffic, cohort: Cohort): Promise<SequenceView> {
  const sequence = await getSequence(deps, id)
  await catchUpSequenceMirror(deps)
  return { sequence, funnel: await sequenceFunnel(deps, sequence, { traffic, cohort }), traffic, cohort }
}

/** The funnel chart's data: per step, the nested counts (each a subset of the one before). */
export function funnelSeries(steps: FunnelStep[]): { labels: string[]; due: number[]; sent: number[]; opened: number[]; clicked: number[]; converted: number[] } {
  return {
    labels: steps.map((s) => `${s.stepId} (${s.offset})`),
    due: steps.map((s) => s.due),
    sent: steps.map((s) => s.sent),
    opened: steps.map((s) => s.opened),
    clicked: steps.map((s) => s.clicked),
    converted: steps.map((s) => s.converted),
  }
}

function RateCell(props: { rate: Rate; label: string; max: number }) {
  const r = props.rate
  return (
    <td>
      <span class="num">{fmtPct(r.value)}</span>{' '}
      <span class="ci">
        {fmtInt(r.numerator)}/{fmtInt(r.denominator)} · {fmtPct(r.interval.low)}–{fmtPct(r.interval.high)}
      </span>
      <IntervalBar value={r.value} low={r.interval.low} high={r.interval.high} max={props.max} label={props.label} />
    </td>
  )
}

const ms = (v: number | null) => (v === null ? '–' : fmtSeconds(v / 1000))
const reasons = (skipped: Record<string, number>) =>
  Object.entries(skipped)
    .map(([k, n]) => `${k} ${fmtInt(n)}`)
    .join(', ') || '–'

export function SequencePage(props: { view: SequenceView; page: PageContext }) {
  const { sequence: seq, funnel: f, traffic, cohort } = props.view
  const base = `/dashboard/sequences/${encodeURIComponent(seq.id)}`
  const qs = (p: { traffic?: Traffic; cohort?: Cohort }) => `${base}?traffic=${p.traffic ?? traffic}&cohort=${p.cohort ?? cohort}`
  const steps = f.steps
  const maxRate = (pick: (s: FunnelStep) => Rate) => Math.max(0.01, ...steps.map((s) => pick(s).interval.high))
  const row = (label: string, cell: (s: FunnelStep) => unknown, id: string) => (
    <tr data-row={id}>
      <th scope="row">{label}</th>
      {steps.map((s) => cell(s))}
    </tr>
  )
  return (
    <Layout title={seq.name} page={props.page}>
      <p class="crumbs">
        <a href="/dashboard/sequences">Sequences</a> ›
      </p>
      <h1 id="sequence-name">{seq.name}</h1>
      <p class="muted">
        Sequence <code>{seq.id}</code> · exits on {seq.exitOn.join(', ')}
        {seq.goal && ` · goal: ${seq.goal.type} within ${seq.goal.within} of entry`}
      </p>
      <TrafficToggle current={traffic} href={(t) => qs({ traffic: t })} />
      <nav class="toggle" aria-label="Cohorts by">
        <span class="toggle-label">Cohorts by:</span>
        {(['day', 'week', 'month'] as const).map((c) => (
          <a href={qs({ cohort: c })} aria-current={c === cohort ? 'true' : undefined}>
            {c}
          </a>
        ))}
      </nav>

      <section aria-labelledby="h-headline">
        <h2 id="h-headline">Entries</h2>
        <div class="cards">
          <div class="card" data-metric="entered">
            <div class="card-label">Entered</div>
            <div class="card-value">{fmtInt(f.entered)}</div>
            <div class="card-detail">{`${fmtInt(f.active)} active, ${fmtInt(f.completed)} completed, ${fmtInt(f.exited)} exited`}</div>
          </div>
          {seq.goal && (
            <div class="card" data-metric="converted">
              <div class="card-label">Converted ({seq.goal.type})</div>
              <div class="card-value">{fmtPct(f.conversion.value)}</div>
              <div class="card-detail">{`${fmtInt(f.converted)} of ${fmtInt(f.entered)}; median ${ms(f.medianEntryToConversionMs)} after entry`}</div>
            </div>
          )}
        </div>
      </section>

      <section aria-labelledby="h-funnel">
        <h2 id="h-funnel">Funnel</h2>
        {f.entered === 0 ? (
          <p>No one has entered yet.</p>
        ) : (
          <div class="chart" id="funnel-chart" data-funnel={JSON.stringify(funnelSeries(steps))} role="img" aria-label="Due, sent, opened, clicked and converted per step; the table below has the same numbers"></div>
        )}
      </section>

      <section aria-labelledby="h-steps">
        <h2 id="h-steps">Steps side by side</h2>
        <table id="steps-table">
          <caption>{traffic === 'human' ? 'Opens and clicks by people only' : traffic === 'machine' ? 'Opens and clicks by machines only' : 'Opens and clicks by people and machines'}; rates over sent with their 95% Wilson interval</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              {steps.map((s) => (
                <th scope="col" data-step={s.stepId}>
                  {s.stepId} <span class="muted small">+{s.offset} · {s.campaignId}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {row('Due', (s) => <td class="num">{fmtInt(s.due)}</td>, 'due')}
            {row('Sent', (s) => <td class="num">{fmtInt(s.sent)}</td>, 'sent')}
            {row('Pending', (s) => <td class="num">{fmtInt(s.pending)}</td>, 'pending')}
            {row('Left instead (by reason)', (s) => <td>{reasons(s.skipped)}</td>, 'skipped')}
            {row('Open rate', (s) => <RateCell rate={s.rates.open} label={`Open rate of ${s.stepId}`} max={maxRate((x) => x.rates.open)} />, 'open')}
            {row('Click rate', (s) => <RateCell rate={s.rates.click} label={`Click rate of ${s.stepId}`} max={maxRate((x) => x.rates.click)} />, 'click')}
            {row('Unsubscribe rate', (s) => <RateCell rate={s.rates.unsubscribe} label={`Unsubscribe rate of ${s.stepId}`} max={maxRate((x) => x.rates.unsubscribe)} />, 'unsubscribe')}
            {seq.goal && row('Converted after it', (s) => <RateCell rate={s.rates.conversion} label={`Conversion rate after ${s.stepId}`} max={maxRate((x) => x.rates.conversion)} />, 'conversion')}
            {row('Went on to the next step', (s) => (s.rates.continuation ? <RateCell rate={s.rates.continuation} label={`Continuation after ${s.stepId}`} max={1} /> : <td>–</td>), 'continuation')}
            {row('Drop-off to the next step', (s) => <td class="num">{s.dropOff === null ? '–' : fmtInt(s.dropOff)}</td>, 'drop-off')}
            {row('Median send → first click', (s) => <td class="num">{ms(s.medianSendToFirstClickMs)}</td>, 'time-to-click')}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="h-cohorts">
        <h2 id="h-cohorts">Cohorts by {cohort} of entry</h2>
        <table id="cohorts-table">
          <caption>Per cohort: entered, then each step's sent and click rate; a change of a step shows in the cohorts that reached it after the change</caption>
          <thead>
            <tr>
              <th scope="col">Cohort</th>
              <th scope="col">Entered</th>
              {seq.goal && <th scope="col">Converted</th>}
              {steps.map((s) => (
                <th scope="col">{s.stepId} sent · click rate</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {f.cohorts.map((c) => (
              <tr data-cohort={c.cohort}>
                <th scope="row">{c.cohort}</th>
                <td class="num">{fmtInt(c.entered)}</td>
                {seq.goal && <td class="num">{`${fmtInt(c.converted)} (${fmtPct(c.conversion.value)})`}</td>}
                {c.steps.map((s) => (
                  <td class="num">
                    {fmtInt(s.sent)} · {fmtPct(s.rates.click.value)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>
  )
}
