import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm'
import { customAlphabet, nanoid } from 'nanoid'
import { DomainError } from '../util/errors.js'
import type { AppDeps } from '../deps.js'
import { campaigns, links, type CampaignSettings } from '../store/schema.js'
import { campaignVersion } from '../tracking/links.js'
import { requireDomain } from './domains.js'

/** Link ids: short, URL-safe, unguessable enough that enumerating them is pointless. */
export const newLinkId = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 12)

export interface Campaign {
  id: string
  name: string
  settings: CampaignSettings
  createdAt: Date
}

export interface Link {
  id: string
  campaignId: string
  /** Where it leads now (a retired link: where it led before it was retired). */
  url: string
  label: string
  position: number
  /** 0 as created, +1 per change. */
  version: number
  disabled: boolean
  fallbackUrl: string | null
  /** The URL it was created with, when it has been changed since (else null: `url` is that one). */
  originalUrl: string | null
}

/** A links row as the API shows it. */
export function toLink(r: typeof links.$inferSelect): Link {
  return {
    id: r.id,
    campaignId: r.campaignId,
    url: r.url,
    label: r.label,
    position: r.position,
    version: r.version,
    disabled: r.disabled,
    fallbackUrl: r.fallbackUrl,
    originalUrl: r.originalUrl,
  }
}

/** The link as the edge caches it. */
export function toCachedLink(r: typeof links.$inferSelect) {
  return { id: r.id, campaignId: r.campaignId, url: r.url, label: r.label, version: r.version, disabled: r.disabled, fallbackUrl: r.fallbackUrl }
}

type Deps = Pick<AppDeps, 'meta' | 'links'>

const columns = { id: campaigns.id, name: campaigns.name, settings: campaigns.settings, createdAt: campaigns.createdAt }

export const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } }
  return e?.code === '23505' || e?.cause?.code === '23505'
}

/**
 * Settings checked beyond their shape: a tracking domain must be registered (compared in lower
 * case), a fallback URL must be an http(s) URL like a link's.
 */
async function checkedSettings(deps: Pick<AppDeps, 'meta'>, settings: CampaignSettings | undefined): Promise<CampaignSettings | undefined> {
  if (!settings) return settings
  const out = { ...settings }
  if (typeof out.trackingDomain === 'string') out.trackingDomain = await requireDomain(deps, out.trackingDomain, 'settings.trackingDomain')
  if (typeof out.fallbackUrl === 'string') out.fallbackUrl = normaliseUrl(out.fallbackUrl, 'settings.fallbackUrl')
  return out
}

export async function createCampaign(deps: Deps, input: { id?: string | undefined; name: string; settings?: CampaignSettings | undefined }): Promise<Campaign> {
  const id = input.id ?? nanoid(12)
  input = { ...input, settings: await checkedSettings(deps, input.settings) }
  try {
    const [row] = await deps.meta.db
      .insert(campaigns)
      .values({ id, name: input.name, settings: input.settings ?? {} })
      .returning({ ...columns, version: campaignVersion })
    const { version, ...campaign } = row!
    deps.links.addCampaign({ id: campaign.id, settings: campaign.settings, version })
    return campaign
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('conflict', `campaign ${id} already exists`)
    throw err
  }
}

/**
 * Changes a campaign in one UPDATE: the settings keys given replace the stored ones (the others are
 * kept) by a jsonb merge in the database, so concurrent changes of different keys all survive, on
 * one instance or several. updated_at comes from the database's clock and only ever grows for a
 * row (the caches keep the version with the larger one).
 */
export async function updateCampaign(deps: Deps, id: string, change: { name?: string | undefined; settings?: CampaignSettings | undefined }): Promise<Campaign> {
  change = { ...change, settings: await checkedSettings(deps, change.settings) }
  const [row] = await deps.meta.db
    .update(campaigns)
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      settings: sql`${campaigns.settings} || ${JSON.stringify(change.settings ?? {})}::jsonb`,
      updatedAt: sql`greatest(clock_timestamp(), ${campaigns.updatedAt} + interval '1 microsecond')`,
    })
    .where(eq(campaigns.id, id))
    .returning({ ...columns, version: campaignVersion })
  if (!row) throw new DomainError('not_found', `campaign ${id} not found`)
  const { version, ...campaign } = row
  deps.links.addCampaign({ id, settings: campaign.settings, version })
  return campaign
}

export async function getCampaign(deps: Deps, id: string): Promise<Campaign> {
  const [row] = await deps.meta.db.select().from(campaigns).where(eq(campaigns.id, id)).limit(1)
  if (!row) throw new DomainError('not_found', `campaign ${id} not found`)
  return row
}

/** The campaigns among `ids` that exist, with one query. */
export async function findCampaigns(deps: Deps, ids: readonly string[]): Promise<Campaign[]> {
  return ids.length ? deps.meta.db.select().from(campaigns).where(inArray(campaigns.id, [...ids])) : []
}

/** Every named campaign, in the order given; not_found names those that do not exist. */
export async function getCampaigns(deps: Deps, ids: readonly string[]): Promise<Campaign[]> {
  const byId = new Map((await findCampaigns(deps, ids)).map((r) => [r.id, r]))
  const missing = ids.filter((id) => !byId.has(id))
  if (missing.length) throw new DomainError('not_found', `campaign${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`)
  return ids.map((id) => byId.get(id)!)
}

export async function listCampaigns(deps: Deps, opts: { limit: number; offset: number; newestFirst?: boolean }): Promise<Campaign[]> {
  const order = opts.newestFirst ? [desc(campaigns.createdAt), desc(campaigns.id)] : [asc(campaigns.createdAt), asc(campaigns.id)]
  return deps.meta.db.select().from(campaigns).orderBy(...order).limit(opts.limit).offset(opts.offset)
}

export async function countCampaigns(deps: Deps): Promise<number> {
  const [row] = await deps.meta.db.select({ n: sql<number>`count(*)::int` }).from(campaigns)
  return Number(row?.n ?? 0)
}

/** Only absolute http(s) URLs, normalised, so the Location header is always well-formed. */
export function normaliseUrl(raw: string, field = 'body.url'): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw new DomainError('validation_failed', `${field}: not an absolute URL: ${raw.slice(0, 200)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new DomainError('validation_failed', `${field}: only http and https URLs can be tracked, got ${u.protocol}`)
  }
  return u.href
}

/**
 * Registers a link; the same url, label and position in a campaign is the same link (created false).
 * Positions count from 1 in a campaign: a template numbers its links in the order they occur, and
 * a link registered by hand (no position given) takes the next number after the campaign's links,
 * keeping it when registered again with the same url and label.
 */
export async function upsertLink(
  deps: Deps,
  campaignId: string,
  input: { url: string; label?: string | undefined; position?: number; templateId?: string | null },
): Promise<{ link: Link; created: boolean }> {
  const url = normaliseUrl(input.url)
  const label = input.label ?? ''
  const templateId = input.templateId ?? null
  const same = and(eq(links.campaignId, campaignId), eq(links.url, url), eq(links.label, label))
  if (input.position === undefined && templateId === null) {
    const [existing] = await deps.meta.db.select().from(links).where(and(same, isNull(links.templateId))).orderBy(asc(links.position)).limit(1)
    if (existing) return cached(deps, existing, false)
  }
  // Two hand links registered at the same instant may share a number; the link id stays their identity.
  const position = input.position ?? sql<number>`(select coalesce(max(${links.position}), 0) + 1 from ${links} where ${links.campaignId} = ${campaignId})`
  const inserted = await deps.meta.db
    .insert(links)
    .values({ id: newLinkId(), campaignId, url, label, position, templateId })
    .onConflictDoNothing()
    .returning()
  let row = inserted[0]
  const created = row !== undefined
  if (!row) {
    const found = await deps.meta.db
      .select()
      .from(links)
      .where(input.position === undefined ? same : and(same, eq(links.position, input.position)))
    row = found.find((l) => (l.templateId ?? null) === templateId)
    if (!row) throw new Error('link vanished after a conflicting insert')
  }
  return cached(deps, row, created)
}

function cached(deps: Deps, row: typeof links.$inferSelect, created: boolean): { link: Link; created: boolean } {
  deps.links.addLink(toCachedLink(row))
  return { link: toLink(row), created }
}

export async function listLinks(deps: Pick<AppDeps, 'meta'>, campaignId: string): Promise<Link[]> {
  const rows = await deps.meta.db.select().from(links).where(eq(links.campaignId, campaignId)).orderBy(asc(links.position), asc(links.createdAt), asc(links.id))
  return rows.map(toLink)
}
