import { randomBytes } from 'node:crypto'
import { and, desc, eq, sql } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { webhookDeliveries, webhookEndpoints } from '../store/schema.js'
import { invalid, notFound } from '../util/errors.js'
import { EVENT_TYPES } from './envelopes.js'
import { newSecret } from './sign.js'
import { checkTarget } from './target.js'

export type EndpointRow = typeof webhookEndpoints.$inferSelect

export interface EndpointInput {
  url: string
  events: string[]
  campaignIds?: string[] | undefined
  traffic?: 'human' | 'machine' | 'all' | undefined
  settle?: 'verdict' | 'edge' | undefined
  batch?: { maxEvents: number; maxWaitMs: number } | null | undefined
  description?: string | undefined
}

/** Both secrets sign for this long after a rotation, so receivers can switch without losing a delivery. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000

/** An endpoint as the API shows it: never its secrets. */
export function publicEndpoint(e: EndpointRow) {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    campaignIds: e.campaignIds,
    traffic: e.traffic,
    settle: e.settle,
    batch: e.batchMax ? { maxEvents: e.batchMax, maxWaitMs: e.batchWaitMs ?? 0 } : null,
    description: e.description,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    failingSince: e.failingSince?.toISOString() ?? null,
    secondSecretUntil: e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > Date.now() ? e.previousSecretExpiresAt.toISOString() : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  }
}

export type PublicEndpoint = ReturnType<typeof publicEndpoint>

type Deps = Pick<AppDeps, 'meta' | 'config' | 'sequence' | 'outbox'>

function checkEvents(events: readonly string[]): void {
  const bad = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e))
  if (bad.length) throw invalid(`events: unknown type ${bad.join(', ')} (known: ${EVENT_TYPES.join(', ')})`)
}

export async function createEndpoint(deps: Deps, input: EndpointInput): Promise<{ endpoint: PublicEndpoint; secret: string }> {
  checkEvents(input.events)
  await checkTarget(input.url, deps.config.webhooks.allowPrivate)
  const secret = newSecret()
  const [row] = await deps.meta.db
    .insert(webhookEndpoints)
    .values({
      id: 'wh_' + randomBytes(12).toString('base64url'),
      url: input.url,
      events: [...new Set(input.events)],
      campaignIds: input.campaignIds ?? [],
      traffic: input.traffic ?? 'human',
      settle: input.settle ?? 'verdict',
      batchMax: input.batch?.maxEvents ?? null,
      batchWaitMs: input.batch?.maxWaitMs ?? null,
      description: input.description ?? '',
      secret,
      // From now on: every event stored while the endpoint subscribes, none from before (replay covers those).
      cursor: Math.max(0, deps.sequence.committed),
    })
    .returning()
  deps.outbox.endpointChanged(row!.id)
  return { endpoint: publicEndpoint(row!), secret }
}

export async function getEndpointRow(deps: Pick<AppDeps, 'meta'>, id: string): Promise<EndpointRow> {
  const [row] = await deps.meta.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id))
  if (!row) throw notFound(`webhook endpoint ${id} not found`)
  return row
}

export async function listEndpoints(deps: Pick<AppDeps, 'meta'>): Promise<PublicEndpoint[]> {
  const rows = await deps.meta.db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt))
  return rows.map(publicEndpoint)
}

export async function updateEndpoint(deps: Deps, id: string, input: Partial<EndpointInput> & { enabled?: boolean | undefined }): Promise<PublicEndpoint> {
  const cur = await getEndpointRow(deps, id)
  if (input.events) checkEvents(input.events)
  if (input.url !== undefined) await checkTarget(input.url, deps.config.webhooks.allowPrivate)
  const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date() }
  if (input.url !== undefined) set.url = input.url
  if (input.events !== undefined) set.events = [...new Set(input.events)]
  if (input.campaignIds !== undefined) set.campaignIds = input.campaignIds
  if (input.traffic !== undefined) set.traffic = input.traffic
  if (input.settle !== undefined) set.settle = input.settle
  if (input.batch !== undefined) {
    set.batchMax = input.batch?.maxEvents ?? null
    set.batchWaitMs = input.batch?.maxWaitMs ?? null
  }
  if (input.description !== undefined) set.description = input.description
  if (input.enabled !== undefined) {
    set.enabled = input.enabled
    // Re-enabled: the failures that disabled it are history; its backlog (deliveries and cursor) resumes.
    if (input.enabled && !cur.enabled) Object.assign(set, { disabledReason: null, failingSince: null })
    if (!input.enabled && cur.enabled) set.disabledReason = 'disabled by a user'
  }
  const [row] = await deps.meta.db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning()
  deps.outbox.endpointChanged(id)
  return publicEndpoint(row!)
}

export async function deleteEndpoint(deps: Deps, id: string): Promise<void> {
  const rows = await deps.meta.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id })
  if (rows.length === 0) throw notFound(`webhook endpoint ${id} not found`)
  deps.outbox.endpointChanged(id)
}

/** A new secret, returned once; the old one keeps signing for ROTATION_OVERLAP_MS. */
export async function rotateSecret(deps: Deps & Pick<AppDeps, 'clock'>, id: string): Promise<{ endpoint: PublicEndpoint; secret: string }> {
  const cur = await getEndpointRow(deps, id)
  const secret = newSecret()
  const [row] = await deps.meta.db
    .update(webhookEndpoints)
    .set({ secret, previousSecret: cur.secret, previousSecretExpiresAt: new Date(deps.clock() + ROTATION_OVERLAP_MS), updatedAt: new Date() })
    .where(eq(webhookEndpoints.id, id))
    .returning()
  deps.outbox.endpointChanged(id)
  return { endpoint: publicEndpoint(row!), secret }
}

/** The secrets that sign now: the current one, and the previous one during its overlap. */
export function signingSecrets(e: Pick<EndpointRow, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>, now: number): string[] {
  return e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > now ? [e.secret, e.previousSecret] : [e.secret]
}

export type DeliveryRow = typeof webhookDeliveries.$inferSelect

export function publicDelivery(d: DeliveryRow) {
  return {
    id: d.id,
    msgId: d.msgId,
    type: d.type,
    eventIds: d.eventIds,
    status: d.status,
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    responseExcerpt: d.responseExcerpt,
    nextAttemptAt: d.status === 'pending' ? (d.nextAttemptAt?.toISOString() ?? null) : null,
    replay: d.replay,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  }
}

export async function listDeliveries(
  deps: Pick<AppDeps, 'meta'>, endpointId: string, q: { status?: 'pending' | 'succeeded' | 'failed' | undefined; limit: number; offset: number },
) {
  await getEndpointRow(deps, endpointId)
  const where = and(eq(webhookDeliveries.endpointId, endpointId), q.status ? eq(webhookDeliveries.status, q.status) : undefined)
  const [rows, [total]] = await Promise.all([
    deps.meta.db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)).limit(q.limit).offset(q.offset),
    deps.meta.db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries).where(where),
  ])
  const n = Number(total?.n ?? 0)
  return { items: rows.map(publicDelivery), total: n, limit: q.limit, offset: q.offset, next: q.offset + rows.length < n ? q.offset + rows.length : null }
}

/** Sends a delivery again now (a failed one gets one more attempt). */
export async function retryDelivery(deps: Pick<AppDeps, 'meta' | 'outbox'>, endpointId: string, deliveryId: string) {
  const [row] = await deps.meta.db
    .update(webhookDeliveries)
    .set({ status: 'pending', nextAttemptAt: new Date(), updatedAt: new Date() })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
    .returning()
  if (!row) throw notFound(`delivery ${deliveryId} of endpoint ${endpointId} not found`)
  deps.outbox.endpointChanged(endpointId)
  return publicDelivery(row)
}

/** Deliveries by status, and the last day's attempts outcome: an endpoint's health at a glance. */
export async function endpointHealth(deps: Pick<AppDeps, 'meta' | 'clock'>, endpointId: string) {
  const since = new Date(deps.clock() - 86_400_000)
  const rows = await deps.meta.db
    .select({
      status: webhookDeliveries.status,
      n: sql<number>`count(*)::int`,
      recent: sql<number>`count(*) filter (where ${webhookDeliveries.updatedAt} >= ${since})::int`,
    })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .groupBy(webhookDeliveries.status)
  const by = Object.fromEntries(rows.map((r) => [r.status, { total: Number(r.n), lastDay: Number(r.recent) }])) as Partial<Record<'pending' | 'succeeded' | 'failed', { total: number; lastDay: number }>>
  return { pending: by.pending?.total ?? 0, succeeded: by.succeeded?.total ?? 0, failed: by.failed?.total ?? 0, succeededLastDay: by.succeeded?.lastDay ?? 0, failedLastDay: by.failed?.lastDay ?? 0 }
}
