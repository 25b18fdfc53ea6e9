import { eq, lt } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { dashboardSignouts } from '../store/schema.js'

/**
 * Dashboard sessions ended by signing out. Sessions are stateless signed cookies (they hold across
 * cluster workers and restarts); ending one before its expiry needs this list, kept in the metadata
 * store so every instance sharing it agrees. Rows past the session's own expiry are pruned.
 */
export async function recordSignout(deps: Pick<AppDeps, 'meta'>, nonce: string, expires: number, now: number): Promise<void> {
  await deps.meta.db.insert(dashboardSignouts).values({ nonce, expiresAt: new Date(expires) }).onConflictDoNothing()
  await deps.meta.db.delete(dashboardSignouts).where(lt(dashboardSignouts.expiresAt, new Date(now)))
}

export async function isSignedOut(deps: Pick<AppDeps, 'meta'>, nonce: string): Promise<boolean> {
  const [row] = await deps.meta.db.select({ n: dashboardSignouts.nonce }).from(dashboardSignouts).where(eq(dashboardSignouts.nonce, nonce)).limit(1)
  return row !== undefined
}
