import type { JournalStats } from '../events/journal.js'
import type { WriterStats } from '../events/writer.js'
import type { EdgeStats } from '../tracking/edge.js'

/** Everything /metrics reports, gathered from this process (and, in a cluster, from the workers' reports). */
export interface MetricsSnapshot {
  edge: EdgeStats[]
  /** Responses of the Hono app, by status code. */
  api: Map<number, number>
  journal: JournalStats
  writers: WriterStats[]
  workers: number
}

/** Counts the Hono app's responses by status; a Map lookup per API request, nothing on the edge. */
export class StatusCounter {
  readonly counts = new Map<number, number>()
  add(status: number): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1)
  }
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0)

/** The Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(s: MetricsSnapshot): string {
  const out: string[] = []
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[labels: string, value: number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) out.push(`${name}${labels ? `{${labels}}` : ''} ${Number.isFinite(value) ? value : 0}`)
  }
  const e = (f: (x: EdgeStats) => number) => sum(s.edge, f)
  const w = (f: (x: WriterStats) => number) => sum(s.writers, f)
  metric('sillage_http_responses_total', 'counter', 'HTTP responses by route and status.', [
    ['route="click",status="302"', e((x) => x.click302)],
    ['route="click",status="404"', e((x) => x.click404)],
    ['route="click",status="410"', e((x) => x.click410 ?? 0)],
    ['route="open",status="200"', e((x) => x.open200)],
    ...[...s.api].sort((a, b) => a[0] - b[0]).map(([status, n]): [string, number] => [`route="api",status="${status}"`, n]),
  ])
  metric('sillage_edge_invalid_tokens_total', 'counter', 'Clicks and opens whose token did not verify (recorded unattributed).', [['', e((x) => x.invalidTokens)]])
  metric('sillage_edge_unknown_campaign_opens_total', 'counter', 'Pixels of unknown campaigns (answered, not recorded).', [['', e((x) => x.unknownCampaigns)]])
  metric('sillage_edge_unknown_host_requests_total', 'counter', 'Clicks and opens whose Host is neither PUBLIC_BASE_URL\'s nor a tracking domain (answered as any other).', [['', e((x) => x.unknownHosts ?? 0)]])
  metric('sillage_edge_front_answers_total', 'counter', 'Clicks and opens read from the socket and answered by the front, without node:http.', [['', e((x) => x.frontAnswers)]])
  metric('sillage_edge_front_handoffs_total', 'counter', 'Connections the front handed to node:http (a request other than a plain GET or HEAD of /c or /o).', [['', e((x) => x.frontHandOffs)]])
  metric('sillage_events_journaled_total', 'counter', 'Events appended to the journal.', [['', s.journal.appended]])
  metric('sillage_events_dropped_total', 'counter', 'Events lost: journal write failed or journal full.', [['', s.journal.lost]])
  metric('sillage_journal_write_errors_total', 'counter', 'Failed journal writes.', [['', s.journal.writeErrors]])
  metric('sillage_journal_pending_bytes', 'gauge', 'Journal bytes not yet inserted into ClickHouse.', [['', s.journal.bytesPending]])
  metric('sillage_events_inserted_total', 'counter', 'Events inserted into ClickHouse.', [['', w((x) => x.inserted)]])
  metric('sillage_insert_retries_total', 'counter', 'Batches inserted again after a failed or interrupted attempt (same journal range, same dedup token).', [['', w((x) => x.retries)]])
  metric('sillage_insert_failures_total', 'counter', 'Failed insert attempts (retried with back-off).', [['', w((x) => x.failures)]])
  metric('sillage_journal_skipped_lines_total', 'counter', 'Journal lines that could not be decoded (torn tails).', [['', w((x) => x.skippedLines)]])
  out.push('# HELP sillage_insert_batch_size Events per inserted batch.', '# TYPE sillage_insert_batch_size summary')
  out.push(`sillage_insert_batch_size_sum ${w((x) => x.inserted)}`, `sillage_insert_batch_size_count ${w((x) => x.batches)}`)
  out.push('# HELP sillage_insert_duration_seconds Duration of ClickHouse inserts.', '# TYPE sillage_insert_duration_seconds summary')
  out.push(`sillage_insert_duration_seconds_sum ${w((x) => x.insertMsSum) / 1000}`, `sillage_insert_duration_seconds_count ${w((x) => x.batches)}`)
  metric('sillage_insert_last_batch_size', 'gauge', 'Size of the last inserted batch.', [['', s.writers.length ? Math.max(...s.writers.map((x) => x.lastBatchSize)) : 0]])
  metric('sillage_workers', 'gauge', 'HTTP worker processes (1 without cluster mode).', [['', s.workers]])
  return out.join('\n') + '\n'
}
