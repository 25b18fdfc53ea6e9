import { randomBytes } from 'node:crypto'
import { and, asc, eq, gt, isNotNull, lt, lte, sql } from 'drizzle-orm'
import type { AppDeps, OutboxHandle } from '../deps.js'
import type { EventSequence } from '../events/sequence.js'
import { queryRows } from '../store/clickhouse.js'
import { anyOf } from '../store/meta.js'
import { webhookDeliveries, webhookEndpoints } from '../store/schema.js'
import { invalid } from '../util/errors.js'
import { derivedId, storeDerived, type DerivedEvent } from './derived.js'
import { signingSecrets, type DeliveryRow, type EndpointRow } from './endpoints.js'
import { readPage, type EventFilter } from './envelopes.js'
import type { LoopPacer } from './pace.js'
import { signatureHeaders } from './sign.js'
import { parseTargetUrl, postJson, type PostResult } from './target.js'

type Deps = Pick<AppDeps, 'events' | 'meta' | 'config' | 'log' | 'clock' | 'sequence'>

/** Deliveries waiting (new or retrying) per endpoint above which no new ones are made: a dead endpoint's backlog stays in the stores. */
const MAX_PENDING = 4000
/** Requests in flight per endpoint: one event each, or batches. */
export const SINGLE_CONCURRENCY = 64
const BATCH_CONCURRENCY = 4
/** Events read per page for one-event endpoints. */
const SINGLE_PAGE = 2000
/** Succeeded deliveries are kept this long in the log. */
const KEEP_SUCCEEDED_MS = 7 * 86_400_000
const REPLAY_MAX = 100_000

/**
 * Where `settle: verdict` readers may go: the events stored before the last second pass's window
 * end, which that pass judged (or which were already older than its lookback and never will be).
 * Without a pass (CLASSIFY_PASS_INTERVAL_MS=0) the edge's verdict is final: everything committed.
 */
export class SettleWatermark {
  private settled = -1
  private listeners: Array<() => void> = []
  constructor(private readonly sequence: EventSequence, private readonly passRuns: boolean) {}

  passCompleted(to: number): void {
    const s = this.sequence.committedAt(to)
    if (s > this.settled) {
      this.settled = s
      for (const l of this.listeners) l()
    }
  }

  get value(): number {
    return this.passRuns ? Math.min(this.settled, this.sequence.committed) : this.sequence.committed
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn)
  }
}

/** The endpoint's event filter and the highest seq it may read now. */
function filterOf(e: EndpointRow): EventFilter {
  return { types: e.events, campaignIds: e.campaignIds, traffic: e.traffic, settle: e.settle }
}

/**
 * Delivers events to webhook endpoints. Everything it knows is in the stores: each endpoint's cursor
 * (the seq up to which deliveries were made) and its deliveries (body fixed at creation, status,
 * next attempt). Deliveries and the cursor move in one transaction, so after a crash every event
 * is either in a delivery row or after the cursor; what was in flight is sent again (at least once).
 */
export class Outbox implements OutboxHandle {
  readonly settle: SettleWatermark
  private readonly workers = new Map<string, EndpointWorker>()
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private unlisten: (() => void) | undefined

  /** `pacer`: the edge runs in this process (no cluster), and delivery leaves it the loop when it is busy. */
  constructor(private readonly deps: Deps, passRuns: boolean, private readonly pacer: LoopPacer | null = null) {
    this.settle = new SettleWatermark(deps.sequence, passRuns)
    deps.sequence.onCommit(() => this.wakeAll())
    this.settle.onChange(() => this.wakeAll())
  }

  async start(onUpdates?: (fn: ReclassifiedListener) => () => void): Promise<void> {
    this.unlisten = onUpdates?.((updates, range, origin) => this.reclassified(updates, range, origin))
    await this.refresh()
    // Endpoints changed by another instance sharing the metadata store, and the log's retention.
    this.timer = setInterval(() => {
      void this.refresh().catch((err: unknown) => this.deps.log.warn('outbox_refresh_failed', { message: (err as Error).message }))
      void this.prune().catch(() => undefined)
    }, 10_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.unlisten?.()
    await Promise.all([...this.workers.values()].map((w) => w.stop()))
    this.workers.clear()
  }

  get settledSeq(): number {
    return this.settle.value
  }

  /** An endpoint was created, changed, deleted, or one of its deliveries was queued: its worker reloads it. */
  endpointChanged(id: string): void {
    if (this.stopped) return
    const w = this.workers.get(id)
    if (w) w.reload()
    else void this.refresh().catch((err: unknown) => this.deps.log.warn('outbox_refresh_failed', { message: (err as Error).message }))
  }

  /** Every endpoint's worker, for tests and the dashboard: deliveries pending in memory are none (all in the store). */
  workerCount(): number {
    return this.workers.size
  }

  private wakeAll(): void {
    for (const w of this.workers.values()) w.wake()
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return
    const rows = await this.deps.meta.db.select({ id: webhookEndpoints.id, enabled: webhookEndpoints.enabled }).from(webhookEndpoints)
    const enabled = new Set(rows.filter((r) => r.enabled).map((r) => r.id))
    for (const [id, w] of this.workers) {
      if (!enabled.has(id)) {
        this.workers.delete(id)
        void w.stop()
      }
    }
    for (const id of enabled) {
      if (!this.workers.has(id) && !this.stopped) {
        const w = new EndpointWorker(this.deps, this.settle, this.pacer, id, () => {
          if (this.workers.get(id) === w) this.workers.delete(id)
        })
        this.workers.set(id, w)
        w.start()
      }
    }
  }

  private async prune(): Promise<void> {
    await this.deps.meta.db
      .delete(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, 'succeeded'), lt(webhookDeliveries.updatedAt, new Date(this.deps.clock() - KEEP_SUCCEEDED_MS))))
  }

  /** email.reclassified for every stored open or click whose class changed. */
  private async reclassified(updates: readonly ReclassifiedUpdate[], range: { from: number; to: number }, origin: 'second_pass' | 'reclassify'): Promise<void> {
    try {
      const changed = updates.filter((u) => u.class !== u.was.class)
      if (changed.length === 0) return
      // Changes the pass makes before the event was settled reach settle: verdict endpoints as the event itself.
      const settled = this.settle.value
      const derived: DerivedEvent[] = []
      for (let i = 0; i < changed.length; i += 5000) {
        const part = changed.slice(i, i + 5000)
        const rows = await queryRows<{ event_id: string; seq: number; type: string; campaign_id: string; link_id: string; recipient_id: string }>(
          this.deps.events,
          `SELECT event_id, seq, toString(type) AS type, campaign_id, link_id, recipient_id FROM ${this.deps.events.db}.events
           WHERE ts >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
             AND event_id IN {ids:Array(String)} AND type IN ('open', 'click') AND token_valid`,
          { fromMs: range.from, toMs: range.to, ids: part.map((u) => u.eventId) },
        )
        const byId = new Map(rows.map((r) => [r.event_id, r]))
        const now = this.deps.clock()
        for (const u of part) {
          const r = byId.get(u.eventId)
          if (!r) continue
          derived.push({
            id: derivedId('rcl_', u.eventId, u.class, u.reasons.join(',')),
            type: 'email.reclassified',
            ts: now,
            campaignId: r.campaign_id,
            recipientId: r.recipient_id,
            class: u.class,
            prevClass: u.was.class,
            afterSettle: origin === 'reclassify' || Number(r.seq) <= settled,
            data: {
              eventId: u.eventId,
              eventType: r.type === 'open' ? 'email.opened' : 'email.clicked',
              campaign: { id: r.campaign_id },
              recipientId: r.recipient_id || null,
              ...(r.link_id ? { link: { id: r.link_id } } : {}),
              previous: { class: u.was.class, reasons: [...u.was.reasons] },
              class: u.class,
              reasons: [...u.reasons],
              by: origin,
            },
          })
        }
      }
      if (derived.length) await storeDerived(this.deps, derived)
    } catch (err) {
      this.deps.log.error('outbox_reclassified_failed', { message: (err as Error).message, updates: updates.length })
    }
  }
}

interface ReclassifiedUpdate {
  eventId: string
  was: { class: string; reasons: readonly string[] }
  class: string
  reasons: readonly string[]
}
export type ReclassifiedListener = (updates: readonly ReclassifiedUpdate[], range: { from: number; to: number }, origin: 'second_pass' | 'reclassify') => Promise<void>

type Envelope = Awaited<ReturnType<typeof readPage>>['events'][number]['envelope']

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}

type Tx = Parameters<Parameters<Deps['meta']['db']['transaction']>[0]>[0]

/** A delivery's request, serialised once: the same bytes are signed, sent and stored. */
interface NewDelivery {
  id: string
  msgId: string
  eventIds: string[]
  type: string
  body: string
}

/** Where a delivery stands after an attempt. */
interface Outcome {
  status: 'pending' | 'succeeded' | 'failed'
  attempts: number
  nextAttemptAt: Date | null
  lastStatus: number | null
  lastError: string | null
  responseExcerpt: string | null
}

/** To a one-event endpoint the envelope as is (webhook-id = event id); else {id, type: 'batch', timestamp, data: [envelopes]}. */
function newDelivery(group: Envelope[], batched: boolean, at: Date): NewDelivery {
  const id = 'dlv_' + randomBytes(12).toString('base64url')
  const msgId = batched ? 'batch_' + id.slice(4) : group[0]!.id
  const body = batched ? JSON.stringify({ id: msgId, type: 'batch', timestamp: at.toISOString(), data: group }) : JSON.stringify(group[0])
  return { id, msgId, eventIds: group.map((e) => e.id), type: batched ? 'batch' : group[0]!.type, body }
}

/** The outcome of attempt number `attempts`: retried on the schedule (or Retry-After on 429 and 503), failed after the last or on 410. */
function outcomeOf(r: PostResult, attempts: number, schedule: readonly number[], now: number): Outcome {
  if (r.status >= 200 && r.status < 300) return { status: 'succeeded', attempts, nextAttemptAt: null, lastStatus: r.status, lastError: null, responseExcerpt: null }
  let status: 'pending' | 'failed' = 'pending'
  let next: Date | null = null
  if (r.status === 410 || attempts >= schedule.length) status = 'failed'
  else {
    const planned = jitter(schedule[attempts]!)
    const wait = (r.status === 429 || r.status === 503) && r.retryAfterMs !== null ? Math.min(r.retryAfterMs, 86_400_000) : planned
    next = new Date(now + wait)
  }
  return {
    status,
    attempts,
    nextAttemptAt: next,
    lastStatus: r.status || null,
    lastError: r.error ?? (r.status ? `HTTP ${r.status}` : null),
    responseExcerpt: r.excerpt.slice(0, 1024) || null,
  }
}

/** Rows per INSERT, and body bytes: a batched delivery's body can be hundreds of kilobytes. */
const INSERT_ROWS = 500
const INSERT_BYTES = 8 << 20

/**
 * Inserts deliveries, each with its first attempt's outcome when it was made before the row (new
 * events) or due now (a replay). One statement per chunk with each column as one array parameter:
 * drizzle's multi-row VALUES binds one parameter per value, and building and planning those cost
 * more than the rows themselves.
 */
async function insertDeliveries(tx: Tx, endpointId: string, rows: NewDelivery[], outcomes: Array<Outcome | null>, replay: boolean, now: number): Promise<number> {
  const at = new Date(now).toISOString()
  for (let i = 0; i < rows.length; ) {
    let j = i
    let bytes = 0
    while (j < rows.length && j - i < INSERT_ROWS && (j === i || bytes + rows[j]!.body.length <= INSERT_BYTES)) bytes += rows[j++]!.body.length
    const part = rows.slice(i, j)
    const out = outcomes.slice(i, j)
    const col = <T>(f: (d: NewDelivery, o: Outcome | null) => T) => sql.param(part.map((d, k) => f(d, out[k]!)))
    await tx.execute(sql`
      INSERT INTO webhook_deliveries (id, endpoint_id, msg_id, event_ids, type, body, status, attempts, next_attempt_at, last_status, last_error, response_excerpt, replay, created_at, updated_at)
      SELECT u.id, ${endpointId}, u.msg_id, ARRAY(SELECT jsonb_array_elements_text(u.event_ids::jsonb)), u.type, u.body, u.status, u.attempts, u.next_at,
             u.last_status, u.last_error, u.excerpt, ${replay}, ${at}::timestamptz, ${at}::timestamptz
      FROM unnest(${col((d) => d.id)}::text[], ${col((d) => d.msgId)}::text[], ${col((d) => JSON.stringify(d.eventIds))}::text[], ${col((d) => d.type)}::text[],
                  ${col((d) => d.body)}::text[], ${col((_, o) => o?.status ?? 'pending')}::text[], ${col((_, o) => o?.attempts ?? 0)}::int[],
                  ${col((_, o) => (o ? (o.nextAttemptAt?.toISOString() ?? null) : at))}::timestamptz[], ${col((_, o) => o?.lastStatus ?? null)}::int[],
                  ${col((_, o) => o?.lastError ?? null)}::text[], ${col((_, o) => o?.responseExcerpt ?? null)}::text[])
        AS u(id, msg_id, event_ids, type, body, status, attempts, next_at, last_status, last_error, excerpt)`)
    i = j
  }
  return rows.length
}

/**
 * One endpoint's loop: send what is due, then turn new events into deliveries while fewer than
 * MAX_PENDING wait, then sleep until woken (new events, a settled pass, a change) or the next attempt.
 */
class EndpointWorker {
  private endpoint: EndpointRow | null = null
  private stopped = false
  private loop: Promise<void> | null = null
  private wakeUp: (() => void) | null = null
  private woken = false
  private needsReload = true
  /** When the first not-yet-batched event was seen: a batch goes out full or after maxWaitMs. */
  private batchSince: number | null = null
  /** The next page, read while the current one is sent (dropped when the endpoint changes). */
  private ahead: { after: number; limit: number; page: ReturnType<typeof readPage> } | null = null

  /** Where the current slice of work began (performance.now()), for the pacer's rest after it. */
  private sliceStart = 0
  private restTimer: { timer: NodeJS.Timeout; done: () => void } | null = null

  constructor(
    private readonly deps: Deps,
    private readonly settle: SettleWatermark,
    private readonly pacer: LoopPacer | null,
    readonly id: string,
    private readonly onExit: () => void,
  ) {}

  start(): void {
    this.loop = this.run()
      .catch((err: unknown) => this.deps.log.error('outbox_worker_failed', { endpoint: this.id, message: (err as Error).message }))
      .finally(() => this.onExit())
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    if (this.restTimer) {
      clearTimeout(this.restTimer.timer)
      this.restTimer.done()
    }
    await this.loop
  }

  reload(): void {
    this.needsReload = true
    this.ahead = null
    this.wake()
  }

  wake(): void {
    this.woken = true
    this.wakeUp?.()
  }

  private async run(): Promise<void> {
    let backoff = 0
    while (!this.stopped) {
      try {
        if (this.needsReload) {
          this.needsReload = false
          const [row] = await this.deps.meta.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, this.id))
          if (!row || !row.enabled) return
          this.endpoint = row
        }
        this.woken = false
        this.sliceStart = performance.now()
        const sent = await this.sendDue()
        const made = await this.deliverNew()
        backoff = 0
        if (sent || made) {
          await this.rest()
          continue
        }
        await this.sleep(await this.untilNextAttempt())
      } catch (err) {
        this.deps.log.warn('outbox_worker_error', { endpoint: this.id, message: (err as Error).message })
        backoff = Math.min(30_000, backoff ? backoff * 2 : 500)
        await this.sleep(backoff)
      }
    }
  }

  /**
   * The pacer's rest after a slice of work (none when the loop has room or the edge is idle). A
   * wake does not cut it short (new events arrive every flush), a stop does.
   */
  private rest(): Promise<void> {
    const ms = this.pacer?.restAfter(this.sliceStart) ?? 0
    if (ms <= 0 || this.stopped) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = () => {
        this.restTimer = null
        this.sliceStart = performance.now()
        resolve()
      }
      this.restTimer = { timer: setTimeout(done, ms), done }
    })
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(0, Math.min(ms, 5_000)))
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.wakeUp = () => {
        this.wakeUp = null
        done()
      }
    })
  }

  private async untilNextAttempt(): Promise<number> {
    const [next] = await this.deps.meta.db
      .select({ at: webhookDeliveries.nextAttemptAt })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, this.id), eq(webhookDeliveries.status, 'pending'), isNotNull(webhookDeliveries.nextAttemptAt)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(1)
    const waitBatch = this.batchSince !== null && this.endpoint?.batchWaitMs ? this.batchSince + this.endpoint.batchWaitMs - this.deps.clock() : 5_000
    return Math.min(next?.at ? next.at.getTime() - this.deps.clock() : 5_000, waitBatch)
  }

  /** Sends the due deliveries (retries, replays, a retry asked for; one round, bounded); true when there were any. */
  private async sendDue(): Promise<boolean> {
    const ep = this.endpoint!
    const now = this.deps.clock()
    const concurrency = ep.batchMax ? BATCH_CONCURRENCY : SINGLE_CONCURRENCY
    const due = await this.deps.meta.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, this.id), eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, new Date(now))))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(concurrency)
    if (due.length === 0) return false
    const url = parseTargetUrl(ep.url)
    const secrets = signingSecrets(ep, now)
    const results = await Promise.all(due.map((d) => this.post(url, d.msgId, d.body, secrets)))
    await this.record(ep, due, results)
    return true
  }

  private post(url: URL, msgId: string, body: string, secrets: readonly string[]): Promise<PostResult> {
    return postJson(url, body, signatureHeaders(msgId, body, secrets, new Date(this.deps.clock())), {
      timeoutMs: this.deps.config.webhooks.timeoutMs,
      allowPrivate: this.deps.config.webhooks.allowPrivate,
    })
  }

  /** Stores the outcome of attempts of stored deliveries. */
  private async record(ep: EndpointRow, due: DeliveryRow[], results: PostResult[]): Promise<void> {
    const now = this.deps.clock()
    const at = new Date(now)
    const schedule = this.deps.config.webhooks.retryScheduleMs
    await this.deps.meta.db.transaction(async (tx) => {
      const okByStatus = new Map<number, string[]>()
      for (let i = 0; i < due.length; i++) {
        const d = due[i]!
        const o = outcomeOf(results[i]!, d.attempts + 1, schedule, now)
        if (o.status === 'succeeded') {
          okByStatus.set(o.lastStatus!, [...(okByStatus.get(o.lastStatus!) ?? []), d.id])
          continue
        }
        await tx
          .update(webhookDeliveries)
          .set({ status: o.status, attempts: o.attempts, nextAttemptAt: o.nextAttemptAt, lastStatus: o.lastStatus, lastError: o.lastError, responseExcerpt: o.responseExcerpt, updatedAt: at })
          .where(eq(webhookDeliveries.id, d.id))
      }
      for (const [st, ids] of okByStatus) {
        await tx
          .update(webhookDeliveries)
          .set({ status: 'succeeded', attempts: sql`${webhookDeliveries.attempts} + 1`, nextAttemptAt: null, lastStatus: st, lastError: null, updatedAt: at })
          .where(anyOf(webhookDeliveries.id, ids))
      }
    })
    await this.health(ep, results, now)
  }

  /** The endpoint's state after a round of attempts: failing since when, disabled on 410 or after failing for disableAfterMs. */
  private async health(ep: EndpointRow, results: readonly PostResult[], now: number): Promise<void> {
    const db = this.deps.meta.db
    const at = new Date(now)
    const ok = results.some((r) => r.status >= 200 && r.status < 300)
    if (ok && ep.failingSince) {
      // The receiver is back: what waits for a later attempt goes now, not hours from now.
      await db
        .update(webhookDeliveries)
        .set({ nextAttemptAt: at })
        .where(and(eq(webhookDeliveries.endpointId, ep.id), eq(webhookDeliveries.status, 'pending'), gt(webhookDeliveries.nextAttemptAt, at)))
      await db.update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, ep.id))
      ep.failingSince = null
    } else if (!ok && results.length > 0) {
      const since = ep.failingSince ?? at
      const gone = results.some((r) => r.status === 410)
      const reason = gone
        ? `the receiver answered 410 Gone at ${at.toISOString()}`
        : now - since.getTime() >= this.deps.config.webhooks.disableAfterMs
          ? `every delivery failed since ${since.toISOString()}`
          : null
      await db
        .update(webhookEndpoints)
        .set({ failingSince: since, ...(reason ? { enabled: false, disabledReason: reason, updatedAt: at } : {}) })
        .where(eq(webhookEndpoints.id, ep.id))
      ep.failingSince = since
      if (reason) {
        this.deps.log.warn('webhook_endpoint_disabled', { endpoint: ep.id, reason })
        this.stopped = true
      }
    }
  }

  /**
   * Sends the next events after the cursor and stores each request with its outcome, moving the
   * cursor in the same transaction; true when it did anything. The first attempt needs no row
   * before it: a row written, read back and updated per event cost more than the request.
   * At most `concurrency` requests are sent and not yet stored at any time, and the cursor only
   * covers stored ones, so a crash re-sends at most that many.
   */
  private async deliverNew(): Promise<boolean> {
    const ep = this.endpoint!
    const db = this.deps.meta.db
    const [{ n } = { n: 0 }] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, ep.id), eq(webhookDeliveries.status, 'pending')))
    const per = ep.batchMax ?? 1
    // Read from half empty: a page of events costs a few ClickHouse queries whatever its size,
    // so topping up after every failed round would read pages of a few events.
    if (Number(n) > MAX_PENDING / 2) return false
    const room = (MAX_PENDING - Number(n)) * per
    const waitsForPass = ep.settle === 'verdict' && (ep.events.includes('email.opened') || ep.events.includes('email.clicked') || ep.events.includes('email.reclassified'))
    const upTo = waitsForPass ? this.settle.value : this.deps.sequence.committed
    if (upTo <= ep.cursor) return false
    const limit = Math.min(room, ep.batchMax ? ep.batchMax * 8 : SINGLE_PAGE)
    const page = await this.page(ep, upTo, limit)
    let take = page.events
    let cursor = page.last
    if (ep.batchMax) {
      // A partial batch waits for more events, up to maxWaitMs after the first was seen.
      const now = this.deps.clock()
      const full = Math.floor(take.length / ep.batchMax) * ep.batchMax
      if (full < take.length) {
        this.batchSince ??= now
        if (now - this.batchSince < (ep.batchWaitMs ?? 0)) {
          if (full === 0) return false
          take = take.slice(0, full)
          cursor = take[take.length - 1]!.seq
        }
      }
      if (take.length === page.events.length) this.batchSince = null
    }
    const from = ep.cursor
    // The next page is read from ClickHouse while this one is sent.
    if (cursor < upTo) this.prefetch(ep, cursor, upTo, limit)
    const at = new Date(this.deps.clock())
    const groups = chunks(take, per)
    // Each request's body is made when it is launched: a page's worth of JSON at once is one long
    // stretch of the event loop that requests to the edge in the same process would wait behind.
    const made: NewDelivery[] = new Array(groups.length)
    // The cursor after the i-th group: its last event, or for the last group where the page ends.
    const cursorAfter = (i: number) => (i === groups.length - 1 ? cursor : groups[i]![groups[i]!.length - 1]!.seq)
    if (groups.length === 0) return (await this.commit(ep, [], [], cursor)) && cursor > from

    const url = parseTargetUrl(ep.url)
    const secrets = signingSecrets(ep, at.getTime())
    const concurrency = ep.batchMax ? BATCH_CONCURRENCY : SINGLE_CONCURRENCY
    const results: Array<PostResult | undefined> = new Array(made.length)
    let launched = 0
    let stored = 0
    let inFlight = 0
    let storing = false
    let halted = false
    let resting = false
    const chunk = concurrency / 2
    await new Promise<void>((resolve) => {
      const pump = () => {
        if (!storing && !halted) {
          let end = stored
          while (end < launched && results[end]) end++
          // Stored in chunks of at least half the window (or all that is done once nothing is in
          // flight): a transaction per response would cost more than the response.
          if (end > stored && (end - stored >= chunk || inFlight === 0 || end === made.length)) {
            storing = true
            const upToI = end
            this.commit(ep, made.slice(stored, upToI), results.slice(stored, upToI) as PostResult[], cursorAfter(upToI - 1))
              .then(
                (ok) => {
                  if (ok) stored = upToI
                  else halted = true
                },
                (err: unknown) => {
                  halted = true
                  this.deps.log.warn('outbox_store_failed', { endpoint: ep.id, message: (err as Error).message })
                },
              )
              .finally(() => {
                storing = false
                // A stored chunk ends a slice: with the edge busy on this loop, new requests wait a while.
                const ms = resting || halted || this.stopped ? 0 : (this.pacer?.restAfter(this.sliceStart) ?? 0)
                if (ms > 0) {
                  resting = true
                  setTimeout(() => {
                    resting = false
                    this.sliceStart = performance.now()
                    pump()
                  }, ms)
                }
                pump()
              })
          }
        }
        // While the pacer holds the loop busy, one chunk at a time: sent, stored, then the rest.
        const window = this.pacer?.busy ? chunk : concurrency
        while (!halted && !resting && !this.stopped && launched < made.length && launched - stored < window) {
          const i = launched++
          inFlight++
          made[i] = newDelivery(groups[i]!.map((e) => e.envelope), ep.batchMax !== null, at)
          void this.post(url, made[i]!.msgId, made[i]!.body, secrets).then((r) => {
            results[i] = r
            inFlight--
            pump()
          })
        }
        if (!storing && !resting && inFlight === 0 && (halted || stored === launched)) resolve()
      }
      pump()
    })
    return stored > 0
  }

  /** The page after the endpoint's cursor: the one read ahead if it starts there, else read now. */
  private async page(ep: EndpointRow, upTo: number, limit: number): Promise<Awaited<ReturnType<typeof readPage>>> {
    const ahead = this.ahead
    this.ahead = null
    if (ahead && ahead.after === ep.cursor && ahead.limit <= limit) {
      const page = await ahead.page.catch(() => null)
      if (page) return page
    }
    return readPage(this.deps, filterOf(ep), ep.cursor, upTo, limit)
  }

  private prefetch(ep: EndpointRow, after: number, upTo: number, limit: number): void {
    const page = readPage(this.deps, filterOf(ep), after, upTo, limit)
    page.catch(() => undefined)
    this.ahead = { after, limit, page }
  }

  /**
   * Stores attempted deliveries and moves the cursor past their events, in one transaction, if no
   * other process moved it meanwhile (two primaries on one metadata store: the page is theirs).
   */
  private async commit(ep: EndpointRow, made: NewDelivery[], results: PostResult[], cursor: number): Promise<boolean> {
    const now = this.deps.clock()
    const schedule = this.deps.config.webhooks.retryScheduleMs
    const from = ep.cursor
    const moved = await this.deps.meta.db.transaction(async (tx) => {
      const m = await tx
        .update(webhookEndpoints)
        .set({ cursor })
        .where(and(eq(webhookEndpoints.id, ep.id), eq(webhookEndpoints.cursor, from)))
        .returning({ id: webhookEndpoints.id })
      if (m.length === 0) return false
      await insertDeliveries(tx, ep.id, made, results.map((r) => outcomeOf(r, 1, schedule, now)), false, now)
      return true
    })
    if (!moved) {
      this.needsReload = true
      return false
    }
    ep.cursor = cursor
    await this.health(ep, results, now)
    return true
  }
}

/** ±10 % around the planned delay (none on an immediate attempt): retries of many deliveries spread out. */
function jitter(ms: number): number {
  return ms === 0 ? 0 : Math.round(ms * (0.9 + Math.random() * 0.2))
}

/** Queues the endpoint's events with ts in [from, to] again, as new deliveries with the same envelope ids. */
export async function replayEndpoint(
  deps: Pick<AppDeps, 'events' | 'meta' | 'clock' | 'sequence' | 'outbox'>, endpoint: EndpointRow, from: number, to: number, types?: string[],
): Promise<{ queued: number; deliveries: number; truncated: boolean }> {
  if (from > to) throw invalid('from must not be after to')
  const f: EventFilter = { ...filterOf(endpoint), types: types?.length ? types.filter((t) => endpoint.events.includes(t)) : endpoint.events, settle: 'edge', from, to }
  if (f.types.length === 0) throw invalid('types: none of them is an event this endpoint subscribes to')
  let after = 0
  let queued = 0
  let deliveries = 0
  const upTo = deps.sequence.committed
  const per = endpoint.batchMax ?? 1
  for (;;) {
    const page = await readPage(deps, f, after, upTo, 1000)
    const inRange = page.events
    const now = deps.clock()
    const rows = chunks(inRange.map((e) => e.envelope), per).map((g) => newDelivery(g, endpoint.batchMax !== null, new Date(now)))
    const made = await deps.meta.db.transaction(async (tx) => insertDeliveries(tx, endpoint.id, rows, rows.map(() => null), true, now))
    queued += inRange.length
    deliveries += made
    after = page.last
    if (page.events.length < 1000 || after >= upTo) break
    if (queued >= REPLAY_MAX) return { queued, deliveries, truncated: true }
  }
  deps.outbox.endpointChanged(endpoint.id)
  return { queued, deliveries, truncated: false }
}

/** A signed `webhook.test` request now, answered with what the receiver said (not logged as a delivery). */
export async function pingEndpoint(deps: Pick<AppDeps, 'config' | 'clock'>, endpoint: EndpointRow): Promise<PostResult & { durationMs: number }> {
  const now = deps.clock()
  const id = 'msg_test_' + randomBytes(9).toString('base64url')
  const body = JSON.stringify({ id, type: 'webhook.test', timestamp: new Date(now).toISOString(), data: { endpointId: endpoint.id } })
  const t0 = performance.now()
  const r = await postJson(parseTargetUrl(endpoint.url), body, signatureHeaders(id, body, signingSecrets(endpoint, now), new Date(now)), {
    timeoutMs: deps.config.webhooks.timeoutMs,
    allowPrivate: deps.config.webhooks.allowPrivate,
  })
  return { ...r, durationMs: Math.round(performance.now() - t0) }
}
