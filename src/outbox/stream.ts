import type { AppDeps } from '../deps.js'
import { readPage, type Envelope, type EventFilter } from './envelopes.js'

export interface StreamQuery extends EventFilter {
  /** The seq of the last event already read (0: from the first event the outbox ordered). */
  after: number
  limit: number
}

/**
 * A page of the pull stream: the same envelopes as the webhooks, in seq order, and the cursor to
 * send next. Only committed batches are read (a batch still inserting holds back those after it),
 * so a cursor never passes an event that lands later; with settle: verdict only what the second
 * pass has judged. The cursor moves past the whole range read even when nothing in it matched.
 */
export async function streamPage(deps: Pick<AppDeps, 'events' | 'meta' | 'sequence' | 'outbox'>, q: StreamQuery): Promise<{ events: Envelope[]; cursor: string; more: boolean }> {
  const upTo = q.settle === 'verdict' ? deps.outbox.settledSeq : deps.sequence.committed
  const page = await readPage(deps, q, q.after, upTo, q.limit)
  return { events: page.events.map((e) => e.envelope), cursor: String(Math.max(q.after, page.last)), more: page.events.length === q.limit }
}
