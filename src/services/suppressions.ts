import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { suppressions } from '../store/schema.js'

/** Global scope: the recipient receives nothing from any campaign. */
export const GLOBAL_SCOPE = ''

export interface Suppression {
  recipientId: string
  scope: string
  reason: string
  campaignId: string | null
  at: Date
}

/** What a send or render does with a suppressed recipient. */
export type OnSuppressed = 'skip' | 'include' | 'reject'

type Deps = Pick<AppDeps, 'meta'>

/**
 * Suppressions that apply to a campaign's recipients: global ones and those scoped to the
 * campaign itself (scope = campaign id). One row per recipient, the global one first.
 */
export async function suppressedAmong(deps: Deps, campaignId: string, recipientIds: string[]): Promise<Map<string, Suppression>> {
  const out = new Map<string, Suppression>()
  if (recipientIds.length === 0) return out
  const unique = [...new Set(recipientIds)]
  // Bounded batches keep each statement far below PostgreSQL's parameter limit.
  for (let i = 0; i < unique.length; i += 5000) {
    const rows = await deps.meta.db
      .select()
      .from(suppressions)
      .where(and(inArray(suppressions.recipientId, unique.slice(i, i + 5000)), inArray(suppressions.scope, [GLOBAL_SCOPE, campaignId])))
      .orderBy(asc(suppressions.scope))
    for (const r of rows) if (!out.has(r.recipientId)) out.set(r.recipientId, r)
  }
  return out
}

/** Adds a suppression unless one exists for (recipient, scope); true when this call created it. */
export async function addSuppression(deps: Deps, s: Suppression): Promise<boolean> {
  const inserted = await deps.meta.db.insert(suppressions).values(s).onConflictDoNothing().returning({ r: suppressions.recipientId })
  return inserted.length > 0
}

/** An import is authoritative: it sets reason and time of entries that already exist. */
export async function importSuppressions(deps: Deps, list: Suppression[]): Promise<number> {
  // One row per key: PostgreSQL refuses to update the same row twice in one statement.
  const byKey = new Map(list.map((s) => [`${s.scope}\u0000${s.recipientId}`, s]))
  const rows = [...byKey.values()]
  for (let i = 0; i < rows.length; i += 2000) {
    await deps.meta.db
      .insert(suppressions)
      .values(rows.slice(i, i + 2000))
      .onConflictDoUpdate({
        target: [suppressions.recipientId, suppressions.scope],
        set: { reason: sql`excluded.reason`, at: sql`excluded.at`, campaignId: sql`excluded.campaign_id` },
      })
  }
  return rows.length
}

export async function listSuppressions(deps: Deps, q: { recipientId?: string | undefined; scope?: string | undefined; limit: number; offset: number }) {
  const where = and(
    q.recipientId !== undefined ? eq(suppressions.recipientId, q.recipientId) : undefined,
    q.scope !== undefined ? eq(suppressions.scope, q.scope) : undefined,
  )
  const [rows, [total]] = await Promise.all([
    deps.meta.db
      .select()
      .from(suppressions)
      .where(where)
      .orderBy(asc(suppressions.at), asc(suppressions.recipientId), asc(suppressions.scope))
      .limit(q.limit)
      .offset(q.offset),
    deps.meta.db.select({ n: sql<number>`count(*)::int` }).from(suppressions).where(where),
  ])
  return { rows, total: Number(total?.n ?? 0) }
}

/** Removes a recipient's suppressions (one scope, or all when none is given); returns what was removed. */
export async function removeSuppressions(deps: Deps, recipientId: string, scope?: string): Promise<Suppression[]> {
  return deps.meta.db
    .delete(suppressions)
    .where(and(eq(suppressions.recipientId, recipientId), scope !== undefined ? eq(suppressions.scope, scope) : undefined))
    .returning()
}

export function toSuppressionResponse(s: Suppression) {
  return { recipientId: s.recipientId, scope: s.scope, reason: s.reason, campaignId: s.campaignId, at: s.at.toISOString() }
}

/** Splits recipients by suppression: the ones to send to and the report of the others. */
export function partitionSuppressed<R extends { id: string }>(recipients: R[], suppressed: Map<string, Suppression>, mode: OnSuppressed) {
  const flagged = recipients.filter((r) => suppressed.has(r.id))
  const report = {
    mode,
    count: flagged.length,
    recipients: flagged.map((r) => {
      const s = suppressed.get(r.id)!
      return { id: r.id, scope: s.scope, reason: s.reason, at: s.at.toISOString() }
    }),
  }
  const kept = mode === 'include' ? recipients : recipients.filter((r) => !suppressed.has(r.id))
  return { kept, report }
}
