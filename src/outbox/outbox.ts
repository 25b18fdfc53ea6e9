import { randomBytes } from 'node:crypto'
import { and, asc, eq, gt, inArray, isNotNull, lt, lte, sql } from 'drizzle-orm'
import type { AppDeps, OutboxHandle } from '../deps.js'
import type { EventSequence } from '../events/sequence.js'
import { queryRows } from '../store/clickhouse.js'
import { webhookDeliveries, webhookEndpoints } from '../store/schema.js'
import { invalid } from '../util/errors.js'
import { derivedId, storeDerived, type DerivedEvent } from './derived.js'
import { signingSecrets, type DeliveryRow, type EndpointRow } from './endpoints.js'
import { readPage, type EventFilter } from './envelopes.js'
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

  constructor(private readonly deps: Deps, passRuns: boolean) {
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
        const w = new EndpointWorker(this.deps, this.settle, id, () => {
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

/** One delivery per group: to a one-event endpoint the envelope as is (webhook-id = event id); else {id, type: 'batch', timestamp, data: [envelopes]}. */
async function insertDeliveries(tx: Tx, endpointId: string, groups: Envelope[][], batched: boolean, replay: boolean, now: number): Promise<number> {
  if (groups.length === 0) return 0
  const at = new Date(now)
  const rows = groups.map((g) => {
    const id = 'dlv_' + randomBytes(12).toString('base64url')
    const msgId = batched ? 'batch_' + id.slice(4) : g[0]!.id
    const body = batched ? JSON.stringify({ id: msgId, type: 'batch', timestamp: at.toISOString(), data: g }) : JSON.stringify(g[0])
    return { id, endpointId, msgId, eventIds: g.map((e) => e.id), type: batched ? 'batch' : g[0]!.type, body, replay, nextAttemptAt: at, createdAt: at, updatedAt: at }
  })
  for (let i = 0; i < rows.length; i += 500) await tx.insert(webhookDeliveries).values(rows.slice(i, i + 500))
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

  constructor(private readonly deps: Deps, private readonly settle: SettleWatermark, readonly id: string, private readonly onExit: () => void) {}

  start(): void {
    this.loop = this.run()
      .catch((err: unknown) => this.deps.log.error('outbox_worker_failed', { endpoint: this.id, message: (err as Error).message }))
      .finally(() => this.onExit())
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    await this.loop
  }

  reload(): void {
    this.needsReload = true
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
        const sent = await this.sendDue()
        const made = await this.makeDeliveries()
        backoff = 0
        if (sent || made) continue
        await this.sleep(await this.untilNextAttempt())
      } catch (err) {
        this.deps.log.warn('outbox_worker_error', { endpoint: this.id, message: (err as Error).message })
        backoff = Math.min(30_000, backoff ? backoff * 2 : 500)
        await this.sleep(backoff)
      }
    }
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

  /** Sends the due deliveries (one round, bounded); true when there were any. */
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
    const results = await Promise.all(
      due.map((d) =>
        postJson(url, d.body, signatureHeaders(d.msgId, d.body, secrets, new Date(this.deps.clock())), {
          timeoutMs: this.deps.config.webhooks.timeoutMs,
          allowPrivate: this.deps.config.webhooks.allowPrivate,
        }),
      ),
    )
    await this.record(ep, due, results)
    return true
  }

  private async record(ep: EndpointRow, due: DeliveryRow[], results: PostResult[]): Promise<void> {
    const now = this.deps.clock()
    const at = new Date(now)
    const schedule = this.deps.config.webhooks.retryScheduleMs
    const ok: string[] = []
    let gone: PostResult | null = null
    const db = this.deps.meta.db
    await db.transaction(async (tx) => {
      for (let i = 0; i < due.length; i++) {
        const d = due[i]!
        const r = results[i]!
        const excerpt = r.excerpt.slice(0, 1024) || null
        if (r.status >= 200 && r.status < 300) {
          ok.push(d.id)
          continue
        }
        const attempts = d.attempts + 1
        if (r.status === 410) gone = r
        let status: 'pending' | 'failed' = 'pending'
        let next: Date | null = null
        if (r.status === 410 || attempts >= schedule.length) status = 'failed'
        else {
          const planned = jitter(schedule[attempts]!)
          const wait = (r.status === 429 || r.status === 503) && r.retryAfterMs !== null ? Math.min(r.retryAfterMs, 86_400_000) : planned
          next = new Date(now + wait)
        }
        await tx
          .update(webhookDeliveries)
          .set({ status, attempts, nextAttemptAt: next, lastStatus: r.status || null, lastError: r.error ?? (r.status ? `HTTP ${r.status}` : null), responseExcerpt: excerpt, updatedAt: at })
          .where(eq(webhookDeliveries.id, d.id))
      }
      const okByStatus = new Map<number, string[]>()
      for (let i = 0; i < due.length; i++) {
        const st = results[i]!.status
        if (st >= 200 && st < 300) okByStatus.set(st, [...(okByStatus.get(st) ?? []), due[i]!.id])
      }
      for (const [st, ids] of okByStatus) {
        await tx
          .update(webhookDeliveries)
          .set({ status: 'succeeded', attempts: sql`${webhookDeliveries.attempts} + 1`, nextAttemptAt: null, lastStatus: st, lastError: null, updatedAt: at })
          .where(inArray(webhookDeliveries.id, ids))
      }
    })
    if (ok.length && ep.failingSince) {
      // The receiver is back: what waits for a later attempt goes now, not hours from now.
      await db
        .update(webhookDeliveries)
        .set({ nextAttemptAt: at })
        .where(and(eq(webhookDeliveries.endpointId, ep.id), eq(webhookDeliveries.status, 'pending'), gt(webhookDeliveries.nextAttemptAt, at)))
      await db.update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, ep.id))
      ep.failingSince = null
    } else if (ok.length === 0) {
      const since = ep.failingSince ?? at
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

  /** Turns the next events after the cursor into deliveries; true when it made some. */
  private async makeDeliveries(): Promise<boolean> {
    const ep = this.endpoint!
    const db = this.deps.meta.db
    const [{ n } = { n: 0 }] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, ep.id), eq(webhookDeliveries.status, 'pending')))
    const per = ep.batchMax ?? 1
    // Refilled from half empty: reading a page of events costs a few ClickHouse queries whatever its
    // size, so topping up a few deliveries after every round would read pages of a few events.
    if (Number(n) > MAX_PENDING / 2) return false
    const room = (MAX_PENDING - Number(n)) * per
    const waitsForPass = ep.settle === 'verdict' && (ep.events.includes('email.opened') || ep.events.includes('email.clicked') || ep.events.includes('email.reclassified'))
    const upTo = waitsForPass ? this.settle.value : this.deps.sequence.committed
    if (upTo <= ep.cursor) return false
    const limit = Math.min(room, ep.batchMax ? ep.batchMax * 8 : SINGLE_PAGE)
    const page = await readPage(this.deps, filterOf(ep), ep.cursor, upTo, limit)
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
    const made = await db.transaction(async (tx) => {
      const moved = await tx
        .update(webhookEndpoints)
        .set({ cursor })
        .where(and(eq(webhookEndpoints.id, ep.id), eq(webhookEndpoints.cursor, from)))
        .returning({ id: webhookEndpoints.id })
      // Another process moved it (two primaries on one metadata store): this page is theirs.
      if (moved.length === 0) return -1
      return insertDeliveries(tx, ep.id, chunks(take.map((e) => e.envelope), per), ep.batchMax !== null, false, this.deps.clock())
    })
    if (made < 0) {
      this.needsReload = true
      return false
    }
    ep.cursor = cursor
    return made > 0 || cursor > from
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
    const made = await deps.meta.db.transaction(async (tx) => insertDeliveries(tx, endpoint.id, chunks(inRange.map((e) => e.envelope), per), endpoint.batchMax !== null, true, deps.clock()))
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
