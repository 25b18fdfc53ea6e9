import { asc, eq } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { DEFAULT_THRESHOLDS, recipientEngagement, recipientSends, type RecipientEngagement } from '../metrics/recipient-activity.js'
import { suppressions } from '../store/schema.js'
import { notFound } from '../util/errors.js'
import { DAY_MS } from '../util/window.js'
import { categoriesOf, getPreferences, type Preferences } from './pressure.js'
import type { Suppression } from './suppressions.js'

export interface RecipientProfile {
  recipientId: string
  at: string
  /** null when the person was never sent anything (only preferences or suppressions known). */
  engagement: RecipientEngagement | null
  sendsLast30Days: Array<{ campaignId: string; category: string; sentAt: string }>
  suppressions: Suppression[]
  preferences: Preferences
}

/**
 * The person across campaigns at `at`: engagement status with the default thresholds (human
 * opens and clicks only), their sends in the last 30 days, suppressions and preferences. Not found
 * when none of these knows them.
 */
export async function recipientProfile(deps: Pick<AppDeps, 'meta' | 'events'>, recipientId: string, at: number): Promise<RecipientProfile> {
  const [engagement, sends, supp, preferences] = await Promise.all([
    recipientEngagement(deps.events, [recipientId], { at, thresholds: DEFAULT_THRESHOLDS }),
    recipientSends(deps.events, [recipientId], { since: at - 30 * DAY_MS + 1, until: at }),
    deps.meta.db.select().from(suppressions).where(eq(suppressions.recipientId, recipientId)).orderBy(asc(suppressions.scope)),
    getPreferences(deps, recipientId),
  ])
  const e = engagement.get(recipientId) ?? null
  if (!e && supp.length === 0 && preferences.updatedAt === null) throw notFound(`recipient ${recipientId} not found (no send, suppression or preference)`)
  const categories = await categoriesOf(deps, sends.map((s) => s.campaignId))
  return {
    recipientId,
    at: new Date(at).toISOString(),
    engagement: e,
    sendsLast30Days: sends.map((s) => ({ campaignId: s.campaignId, category: categories.get(s.campaignId) ?? '', sentAt: new Date(s.sentAt).toISOString() })),
    suppressions: supp,
    preferences,
  }
}
