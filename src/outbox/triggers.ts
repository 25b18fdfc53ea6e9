import { randomBytes } from 'node:crypto'
import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { audience } from '../metrics/audience.js'
import { audienceSelection, parseAudienceQuery } from '../metrics/audience-filter.js'
import { wakeUpAudience } from '../metrics/engagement.js'
import type { EngagementStatus, EngagementThresholds } from '../metrics/recipient-activity.js'
import { triggerMembers, triggers } from '../store/schema.js'
import { notFound } from '../util/errors.js'
import { derivedId, storeDerived, storedDerivedIds, type DerivedEvent } from './derived.js'

/**
 * A campaign audience (the audience endpoint's query parameters) or a cross-campaign engagement
 * status: the wake-up list's (GET /v1/audience) status and thresholds. Triggers stored before
 * `status` and `activeDays` existed have neither: inactive, and activeDays' default.
 */
export type TriggerAudience =
  | { campaignId: string; filter: Record<string, string | string[]> }
  | { inactiveDays: number; minSends: number; activeDays?: number | undefined; status?: EngagementStatus | undefined }

/** activeDays defaults to 30, or to inactiveDays − 1 when that is less (it must stay below inactiveDays). */
export function crossCampaignThresholds(a: { inactiveDays: number; minSends: number; activeDays?: number | undefined }): EngagementThresholds {
  return { activeDays: a.activeDays ?? Math.min(30, a.inactiveDays - 1), inactiveDays: a.inactiveDays, minSends: a.minSends }
}

type Deps = Pick<AppDeps, 'events' | 'meta' | 'links' | 'config' | 'log' | 'clock' | 'sequence'>

export type TriggerRow = typeof triggers.$inferSelect

export function publicTrigger(t: TriggerRow, members?: number) {
  return {
    id: t.id,
    name: t.name,
    audience: t.audience as TriggerAudience,
    everyMs: t.everyMs,
    lastRunAt: t.lastRunAt?.toISOString() ?? null,
    nextRunAt: t.nextRunAt.toISOString(),
    lastError: t.lastError,
    createdAt: t.createdAt.toISOString(),
    ...(members !== undefined ? { members } : {}),
  }
}

export async function createTrigger(deps: Pick<AppDeps, 'meta' | 'config'>, input: { name: string; audience: TriggerAudience; everyMs?: number | undefined }) {
  const [row] = await deps.meta.db
    .insert(triggers)
    .values({ id: 'trg_' + randomBytes(12).toString('base64url'), name: input.name, audience: input.audience, everyMs: input.everyMs ?? deps.config.triggerIntervalMs })
    .returning()
  return publicTrigger(row!, 0)
}

async function memberCounts(deps: Pick<AppDeps, 'meta'>, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map()
  const rows = await deps.meta.db
    .select({ id: triggerMembers.triggerId, n: sql<number>`count(*)::int` })
    .from(triggerMembers)
    .where(inArray(triggerMembers.triggerId, ids))
    .groupBy(triggerMembers.triggerId)
  return new Map(rows.map((r) => [r.id, Number(r.n)]))
}

export async function listTriggers(deps: Pick<AppDeps, 'meta'>) {
  const rows = await deps.meta.db.select().from(triggers).orderBy(desc(triggers.createdAt))
  const counts = await memberCounts(deps, rows.map((r) => r.id))
  return rows.map((r) => publicTrigger(r, counts.get(r.id) ?? 0))
}

export async function getTrigger(deps: Pick<AppDeps, 'meta'>, id: string) {
  const [row] = await deps.meta.db.select().from(triggers).where(eq(triggers.id, id))
  if (!row) throw notFound(`trigger ${id} not found`)
  return publicTrigger(row, (await memberCounts(deps, [id])).get(id) ?? 0)
}

export async function deleteTrigger(deps: Pick<AppDeps, 'meta'>, id: string): Promise<void> {
  const rows = await deps.meta.db.delete(triggers).where(eq(triggers.id, id)).returning({ id: triggers.id })
  if (rows.length === 0) throw notFound(`trigger ${id} not found`)
}

export async function listMembers(deps: Pick<AppDeps, 'meta'>, id: string, q: { limit: number; offset: number }) {
  await getTrigger(deps, id)
  const where = eq(triggerMembers.triggerId, id)
  const [rows, [total]] = await Promise.all([
    deps.meta.db.select().from(triggerMembers).where(where).orderBy(asc(triggerMembers.enteredAt), asc(triggerMembers.recipientId)).limit(q.limit).offset(q.offset),
    deps.meta.db.select({ n: sql<number>`count(*)::int` }).from(triggerMembers).where(where),
  ])
  const n = Number(total?.n ?? 0)
  return {
    items: rows.map((r) => ({ recipientId: r.recipientId, enteredAt: r.enteredAt.toISOString() })),
    total: n,
    limit: q.limit,
    offset: q.offset,
    next: q.offset + rows.length < n ? q.offset + rows.length : null,
  }
}

const CHUNK = 5000

/**
 * Evaluates due triggers, one at a time (their audience queries are the heavy part; chDB runs one
 * query at a time). A recipient enters a trigger once: the member row (primary key trigger,
 * recipient) is the idempotency, and its audience.entered event has an id derived from both, stored
 * before the row is marked emitted, so a crash in between re-stores it only if it is missing.
 */
export class TriggerRunner {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | null = null
  private stopped = false

  constructor(private readonly deps: Deps, private readonly pollMs = 2000) {}

  start(): void {
    this.timer = setInterval(() => void this.runDue(), this.pollMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await this.running
  }

  /** Runs every trigger whose time has come (tests call it directly). */
  runDue(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve()
    this.running = this.dueLoop()
      .catch((err: unknown) => this.deps.log.warn('triggers_failed', { message: (err as Error).message }))
      .finally(() => {
        this.running = null
      })
    return this.running
  }

  private async dueLoop(): Promise<void> {
    const now = this.deps.clock()
    const due = await this.deps.meta.db.select().from(triggers).where(lte(triggers.nextRunAt, new Date(now))).orderBy(asc(triggers.nextRunAt)).limit(20)
    for (const t of due) {
      if (this.stopped) return
      let error: string | null = null
      try {
        const entered = await this.evaluate(t)
        if (entered > 0) this.deps.log.info('trigger_entered', { trigger: t.id, entered })
      } catch (err) {
        error = (err as Error).message
        this.deps.log.warn('trigger_failed', { trigger: t.id, message: error })
      }
      const at = this.deps.clock()
      await this.deps.meta.db.update(triggers).set({ lastRunAt: new Date(at), nextRunAt: new Date(at + t.everyMs), lastError: error }).where(eq(triggers.id, t.id))
    }
  }

  /** One evaluation: members not emitted by an interrupted run first, then the audience's new recipients. */
  async evaluate(t: TriggerRow): Promise<number> {
    const leftover = await this.deps.meta.db
      .select({ recipientId: triggerMembers.recipientId })
      .from(triggerMembers)
      .where(and(eq(triggerMembers.triggerId, t.id), eq(triggerMembers.emitted, false)))
    if (leftover.length) await this.emit(t, leftover.map((r) => r.recipientId), true)
    let entered = 0
    let chunk: string[] = []
    const flush = async () => {
      if (chunk.length === 0) return
      const fresh = await this.deps.meta.db
        .insert(triggerMembers)
        .values(chunk.map((recipientId) => ({ triggerId: t.id, recipientId })))
        .onConflictDoNothing()
        .returning({ recipientId: triggerMembers.recipientId })
      chunk = []
      entered += fresh.length
      await this.emit(t, fresh.map((r) => r.recipientId), false)
    }
    for await (const recipientId of this.recipients(t.audience as TriggerAudience)) {
      chunk.push(recipientId)
      if (chunk.length >= CHUNK) await flush()
    }
    await flush()
    return entered
  }

  private async *recipients(a: TriggerAudience): AsyncGenerator<string> {
    if ('campaignId' in a) {
      // Parsed as the audience endpoint parses it: the same parameters select the same people.
      const sel = await audienceSelection(this.deps, a.campaignId, parseAudienceQuery(a.filter))
      for await (const r of audience(this.deps.events, a.campaignId, sel.filter, sel.window)) yield r.recipientId
      return
    }
    // The wake-up list's own query: the same thresholds give the same people as GET /v1/audience.
    const rows = wakeUpAudience(this.deps.events, { at: this.deps.clock(), thresholds: crossCampaignThresholds(a), statuses: [a.status ?? 'inactive'] })
    for await (const r of rows) yield r.recipientId
  }

  private async emit(t: TriggerRow, recipientIds: string[], retry: boolean): Promise<void> {
    if (recipientIds.length === 0) return
    const a = t.audience as TriggerAudience
    const now = this.deps.clock()
    let events: DerivedEvent[] = recipientIds.map((recipientId) => ({
      id: derivedId('aud_', t.id, recipientId),
      type: 'audience.entered',
      ts: now,
      campaignId: 'campaignId' in a ? a.campaignId : '',
      recipientId,
      data: { trigger: { id: t.id, name: t.name }, recipientId, ...('campaignId' in a ? { campaign: { id: a.campaignId } } : {}), audience: a },
    }))
    if (retry) {
      const stored = await storedDerivedIds(this.deps, events.map((e) => e.id))
      events = events.filter((e) => !stored.has(e.id))
    }
    await storeDerived(this.deps, events)
    await this.deps.meta.db
      .update(triggerMembers)
      .set({ emitted: true })
      .where(and(eq(triggerMembers.triggerId, t.id), inArray(triggerMembers.recipientId, recipientIds)))
  }
}
