import { asc, eq, sql } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { campaigns, trackingDomains, type CampaignSettings } from '../store/schema.js'
import { conflict, invalid, notFound } from '../util/errors.js'
import { isUniqueViolation } from './campaigns.js'

export interface TrackingDomain {
  host: string
  default: boolean
  /** What tracked URLs on it start with (TLS is the reverse proxy's: see docs/tracking-domains.md). */
  baseUrl: string
  createdAt: Date
}

/** A DNS name of 2+ labels (letters, digits, hyphens; no port, no scheme), lower-cased, without a trailing dot. */
export function normaliseHost(raw: string, field = 'body.host'): string {
  const host = raw.trim().toLowerCase().replace(/\.$/, '')
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
  const labels = host.split('.')
  if (host.length > 253 || labels.length < 2 || !labels.every((l) => label.test(l))) {
    throw invalid(`${field}: not a host name (like click.brand.example, no scheme, port or path): ${raw.slice(0, 100)}`)
  }
  return host
}

export const domainBaseUrl = (host: string) => `https://${host}`

function toDomain(r: typeof trackingDomains.$inferSelect): TrackingDomain {
  return { host: r.host, default: r.isDefault, baseUrl: domainBaseUrl(r.host), createdAt: r.createdAt }
}

type Deps = Pick<AppDeps, 'meta' | 'links'>

/** Tells this instance's edge at once (others on their next refresh). */
async function publish(deps: Deps): Promise<void> {
  const rows = await deps.meta.db.select({ host: trackingDomains.host }).from(trackingDomains)
  deps.links.setDomains(rows.map((r) => r.host))
}

export async function listDomains(deps: Pick<AppDeps, 'meta'>): Promise<TrackingDomain[]> {
  return (await deps.meta.db.select().from(trackingDomains).orderBy(asc(trackingDomains.host))).map(toDomain)
}

/** Registers a host; `isDefault` makes it the domain of campaigns without a trackingDomain setting (the former default is no longer). */
export async function addDomain(deps: Deps, input: { host: string; default?: boolean | undefined }): Promise<TrackingDomain> {
  const host = normaliseHost(input.host)
  try {
    const row = await deps.meta.db.transaction(async (tx) => {
      if (input.default) await tx.update(trackingDomains).set({ isDefault: false }).where(eq(trackingDomains.isDefault, true))
      const [r] = await tx.insert(trackingDomains).values({ host, isDefault: input.default ?? false }).returning()
      return r!
    })
    await publish(deps)
    return toDomain(row)
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`tracking domain ${host} already exists`)
    throw err
  }
}

/** Removes a host no campaign names; tracked URLs already sent on it keep working (the edge answers any host). */
export async function deleteDomain(deps: Deps, rawHost: string): Promise<void> {
  const host = rawHost.toLowerCase()
  const users = await deps.meta.db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(sql`${campaigns.settings}->>'trackingDomain' = ${host}`)
    .limit(20)
  if (users.length) throw conflict(`tracking domain ${host} is the trackingDomain of campaign(s) ${users.map((u) => u.id).join(', ')}: change their settings first`)
  const gone = await deps.meta.db.delete(trackingDomains).where(eq(trackingDomains.host, host)).returning({ host: trackingDomains.host })
  if (!gone.length) throw notFound(`tracking domain ${host} not found`)
  await publish(deps)
}

/** The registered host named by a campaign setting, or a 400 naming the field. */
export async function requireDomain(deps: Pick<AppDeps, 'meta'>, raw: string, field: string): Promise<string> {
  const host = raw.trim().toLowerCase().replace(/\.$/, '')
  const [row] = await deps.meta.db.select({ host: trackingDomains.host }).from(trackingDomains).where(eq(trackingDomains.host, host)).limit(1)
  if (!row) throw invalid(`${field}: ${raw.slice(0, 100)} is not a registered tracking domain (POST /v1/domains first)`)
  return row.host
}

/**
 * Where a campaign's tracked URLs (clicks, pixel, unsubscribe) start: its trackingDomain, else
 * the default domain, else PUBLIC_BASE_URL.
 */
export async function trackingBaseUrl(deps: Pick<AppDeps, 'meta' | 'config'>, settings: CampaignSettings | undefined): Promise<string> {
  if (settings?.trackingDomain) return domainBaseUrl(settings.trackingDomain)
  const [d] = await deps.meta.db.select({ host: trackingDomains.host }).from(trackingDomains).where(eq(trackingDomains.isDefault, true)).limit(1)
  return d ? domainBaseUrl(d.host) : deps.config.publicBaseUrl
}
