import { and, asc, eq, sql } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { linkChanges, links } from '../store/schema.js'
import { conflict, invalid, notFound } from '../util/errors.js'
import { isUniqueViolation, normaliseUrl, toCachedLink, toLink, type Link } from './campaigns.js'
import { HONEYPOT_LABEL } from './templates.js'

export interface LinkChange {
  /** What to send readers to from now on (same rules as at creation: absolute http(s)). */
  url?: string | undefined
  /** true retires the link (clicks still recorded), false brings it back. */
  disabled?: boolean | undefined
  /** Where a retired link sends readers; null: the campaign's fallbackUrl, else the "offer ended" page. */
  fallbackUrl?: string | null | undefined
}

export interface LinkHistoryEntry {
  version: number
  at: Date
  /** The API key that made the change ('admin': TRACKER_ADMIN_KEY). */
  apiKeyId: string
  oldUrl: string
  newUrl: string
  disabled: boolean
  fallbackUrl: string | null
}

/**
 * Changes where a link leads, in one transaction with its history row: the version goes up by
 * one and updated_at to the database's clock, so every instance's link cache picks the change up
 * on its next refresh (this one at once). A change that changes nothing records nothing.
 */
export async function updateLink(deps: Pick<AppDeps, 'meta' | 'links'>, campaignId: string, linkId: string, change: LinkChange, apiKeyId: string): Promise<Link> {
  const url = change.url !== undefined ? normaliseUrl(change.url) : undefined
  const fallbackUrl = typeof change.fallbackUrl === 'string' ? normaliseUrl(change.fallbackUrl, 'body.fallbackUrl') : change.fallbackUrl
  let row: typeof links.$inferSelect
  try {
    row = await deps.meta.db.transaction(async (tx) => {
      const [cur] = await tx
        .select()
        .from(links)
        .where(and(eq(links.id, linkId), eq(links.campaignId, campaignId)))
        .for('update')
      if (!cur) throw notFound(`link ${linkId} not found in campaign ${campaignId}`)
      if (cur.label === HONEYPOT_LABEL) throw invalid(`link ${linkId} is the template's honeypot: it cannot be changed`)
      const next = { url: url ?? cur.url, disabled: change.disabled ?? cur.disabled, fallbackUrl: fallbackUrl === undefined ? cur.fallbackUrl : fallbackUrl }
      if (next.url === cur.url && next.disabled === cur.disabled && next.fallbackUrl === cur.fallbackUrl) return cur
      const [r] = await tx
        .update(links)
        .set({
          ...next,
          version: sql`${links.version} + 1`,
          originalUrl: sql`coalesce(${links.originalUrl}, ${links.url})`,
          updatedAt: sql`greatest(clock_timestamp(), ${links.updatedAt} + interval '1 microsecond')`,
        })
        .where(eq(links.id, linkId))
        .returning()
      await tx.insert(linkChanges).values({ linkId, version: r!.version, apiKeyId, oldUrl: cur.url, newUrl: r!.url, disabled: r!.disabled, fallbackUrl: r!.fallbackUrl })
      return r!
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`campaign ${campaignId} already has a link to ${url} with this label and position`)
    throw err
  }
  deps.links.addLink(toCachedLink(row))
  return toLink(row)
}

/** Every change of a link, oldest first. */
export async function linkHistory(deps: Pick<AppDeps, 'meta'>, campaignId: string, linkId: string): Promise<{ link: Link; changes: LinkHistoryEntry[] }> {
  const [l] = await deps.meta.db
    .select()
    .from(links)
    .where(and(eq(links.id, linkId), eq(links.campaignId, campaignId)))
  if (!l) throw notFound(`link ${linkId} not found in campaign ${campaignId}`)
  const changes = await deps.meta.db
    .select({
      version: linkChanges.version,
      at: linkChanges.at,
      apiKeyId: linkChanges.apiKeyId,
      oldUrl: linkChanges.oldUrl,
      newUrl: linkChanges.newUrl,
      disabled: linkChanges.disabled,
      fallbackUrl: linkChanges.fallbackUrl,
    })
    .from(linkChanges)
    .where(eq(linkChanges.linkId, linkId))
    .orderBy(asc(linkChanges.version))
  return { link: toLink(l), changes }
}
