import { gte, sql } from 'drizzle-orm'
import type { MetaStore } from '../store/meta.js'
import { campaigns, links, trackingDomains, type CampaignSettings } from '../store/schema.js'

export interface CachedLink {
  id: string
  campaignId: string
  url: string
  /** The link's label (utm_content when the campaign asks for UTM decoration). */
  label?: string
  /** 0 as created, +1 per change (PATCH): the cache keeps the larger, whatever order refreshes arrive in. */
  version?: number
  /** Retired: the click is recorded and the reader goes to the fallback, or gets the "offer ended" page. */
  disabled?: boolean
  /** The retired link's own fallback (else the campaign's fallbackUrl setting). */
  fallbackUrl?: string | null
}

/**
 * Where a click on `link` goes before any decoration: its URL, or, retired, its fallback, the
 * campaign's, or null for the "offer ended" page. Nothing comes from the request.
 */
export function destinationOf(link: CachedLink, settings: CampaignSettings | undefined): string | null {
  if (!link.disabled) return link.url
  return link.fallbackUrl || settings?.fallbackUrl || null
}

export interface CachedCampaign {
  id: string
  settings: CampaignSettings
  /** The row's updated_at in microseconds: a later change of the campaign has a larger one. */
  version: number
}

/** What a refresh brings: links created or changed and campaigns changed since a time, and the cursor to pass next (ms, the database's clock). */
export interface LinkDelta {
  links: CachedLink[]
  campaigns: CachedCampaign[]
  /** Every registered tracking domain (a handful of rows: read whole, so a deletion is seen too). */
  domains?: string[]
  max: number
}

/**
 * How far before its cursor a refresh looks again. A row's timestamp is taken when it is written
 * and it becomes visible only at commit: one committed after a refresh began can carry a time
 * before that refresh's cursor. Rows written in a single statement (every change of a campaign)
 * or a short transaction (a template's links) commit well within this.
 */
const REFRESH_OVERLAP_MS = 10_000

/** campaigns.updated_at as an exact number (microseconds fit a double until the year 2255). */
export const campaignVersion = sql<number>`(extract(epoch from ${campaigns.updatedAt}) * 1000000)::bigint`.mapWith(Number)

/**
 * Links created or changed and campaigns changed since `since` (ms, a cursor this function
 * returned), read from the metadata store: the one query every cache is filled from. The cursor is
 * the database's clock, read before the rows, so the instances' own clocks never matter.
 */
export async function linkDelta(meta: MetaStore, since: number): Promise<LinkDelta> {
  const clock = (await meta.db.execute(sql`select (extract(epoch from clock_timestamp()) * 1000)::float8 as now`)) as unknown as { rows: Array<{ now: number | string }> }
  const now = Number(clock.rows[0]!.now)
  const from = new Date(Math.max(0, since - REFRESH_OVERLAP_MS))
  const [cs, ls, ds] = await Promise.all([
    meta.db.select({ id: campaigns.id, settings: campaigns.settings, version: campaignVersion }).from(campaigns).where(gte(campaigns.updatedAt, from)),
    meta.db
      .select({ id: links.id, campaignId: links.campaignId, url: links.url, label: links.label, version: links.version, disabled: links.disabled, fallbackUrl: links.fallbackUrl })
      .from(links)
      .where(gte(links.updatedAt, from)),
    meta.db.select({ host: trackingDomains.host }).from(trackingDomains),
  ])
  // The label is the link's utm_content when its campaign asks for UTM parameters.
  return { campaigns: cs, links: ls, domains: ds.map((d) => d.host), max: Math.max(since, now) }
}

export interface LinkCacheOptions {
  /** Period of the refresh that brings other instances' changes (0 or unset: only on a miss). */
  refreshMs?: number
  /** A periodic refresh failed (the next one retries). */
  onError?: (err: Error) => void
}

/** At most one refresh per this period, however many unknown ids arrive. */
const MIN_REFRESH_INTERVAL_MS = 1_000

/**
 * Every link and campaign, in memory. A link created by another instance is picked up by an
 * incremental refresh that a miss triggers at most once a second (a flood of unknown ids costs one
 * query per second, not one each). Campaigns change (their settings decide the redirect's
 * decoration) and so do links (PATCH: a new URL, retired): this process's own changes apply at once
 * (addCampaign, addLink), other instances' within `refreshMs` plus one query, through the periodic
 * refresh; the larger version wins, so a refresh answered late never undoes a newer change. `pull` is linkDelta over the metadata store, or, in a cluster worker, the same
 * asked of the primary (whose own periodic refresh pushes changes to its workers: see onCampaign).
 */
export class LinkCache {
  private readonly links = new Map<string, CachedLink>()
  private readonly campaigns = new Map<string, CachedCampaign>()
  private readonly campaignListeners: Array<(c: CachedCampaign) => void> = []
  private readonly linkListeners: Array<(l: CachedLink) => void> = []
  private readonly domainListeners: Array<(hosts: string[]) => void> = []
  private domainList: string[] = []
  /** Registered tracking domains (lower case), for the edge's count of requests on unknown hosts. */
  domains: ReadonlySet<string> = new Set()
  private since = 0
  private lastRefresh = 0
  private inflight: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor(
    private readonly pull: (since: number) => Promise<LinkDelta>,
    private readonly opts: LinkCacheOptions = {},
  ) {}

  /** The first, full pull; then the periodic refresh, if asked for, until close. */
  async load(): Promise<void> {
    await this.refresh()
    this.schedule()
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
  }

  link(id: string): CachedLink | undefined {
    return this.links.get(id)
  }

  campaign(id: string): CachedCampaign | undefined {
    return this.campaigns.get(id)
  }

  get size(): number {
    return this.links.size
  }

  /** Keeps the larger version (a changed link replaces the object: the redirect's caches see a new one). */
  addLink(link: CachedLink): void {
    const known = this.links.get(link.id)
    if (known && (known.version ?? 0) >= (link.version ?? 0)) return
    this.links.set(link.id, link)
    // A changed link reaches a cluster's workers at once; new ones they fetch on a miss.
    if ((link.version ?? 0) > 0) for (const l of this.linkListeners) l(link)
  }

  /** Called for every changed link this cache learns (version > 0), whoever changed it. */
  onLink(listener: (l: CachedLink) => void): void {
    this.linkListeners.push(listener)
  }

  /** Replaces the set of tracking domains (lower-cased hosts). */
  setDomains(hosts: readonly string[]): void {
    const sorted = [...new Set(hosts.map((h) => h.toLowerCase()))].sort()
    if (sorted.length === this.domainList.length && sorted.every((h, i) => h === this.domainList[i])) return
    this.domainList = sorted
    this.domains = new Set(sorted)
    for (const l of this.domainListeners) l(sorted)
  }

  /** Called when the set of tracking domains changes. */
  onDomains(listener: (hosts: string[]) => void): void {
    this.domainListeners.push(listener)
  }

  /**
   * Keeps the newer of this and the known version: a refresh that read the store before a change
   * this process made (and added at once) must not undo it when its answer arrives later.
   */
  addCampaign(c: CachedCampaign): void {
    const known = this.campaigns.get(c.id)
    if (known && known.version >= c.version) return
    this.campaigns.set(c.id, c)
    for (const l of this.campaignListeners) l(c)
  }

  /**
   * Called for every campaign this cache learns or sees change, whoever made the change: a
   * cluster's primary passes it on to its workers, whose caches have no periodic refresh of their own.
   */
  onCampaign(listener: (c: CachedCampaign) => void): void {
    this.campaignListeners.push(listener)
  }

  /** Waits for a refresh (shared by concurrent callers, rate-limited) and looks again. */
  async lookupLink(id: string): Promise<CachedLink | undefined> {
    await this.maybeRefresh()
    return this.links.get(id)
  }

  async lookupCampaign(id: string): Promise<CachedCampaign | undefined> {
    await this.maybeRefresh()
    return this.campaigns.get(id)
  }

  /**
   * One refresh shared by every miss meanwhile. Within a second of the last one, the next waits
   * for the second to pass rather than answering "unknown" for a link created a moment ago:
   * a flood of unknown ids still costs one query a second.
   */
  private maybeRefresh(): Promise<void> {
    if (this.inflight) return this.inflight
    const wait = this.lastRefresh + MIN_REFRESH_INTERVAL_MS - Date.now()
    const start = wait > 0 ? new Promise<void>((r) => setTimeout(r, wait).unref()) : Promise.resolve()
    return this.share(start.then(() => this.refresh()))
  }

  private share(p: Promise<void>): Promise<void> {
    this.inflight = p.finally(() => {
      this.inflight = null
    })
    return this.inflight
  }

  /** The next periodic refresh, `refreshMs` after the end of the last one (or joining one a miss started). */
  private schedule(): void {
    const every = this.opts.refreshMs ?? 0
    if (every <= 0 || this.closed) return
    this.timer = setTimeout(() => {
      const run = this.inflight ?? this.share(this.refresh())
      run.catch((err: Error) => this.opts.onError?.(err)).finally(() => this.schedule())
    }, every)
    this.timer.unref()
  }

  private async refresh(): Promise<void> {
    this.lastRefresh = Date.now()
    const d = await this.pull(this.since)
    for (const c of d.campaigns) this.addCampaign(c)
    for (const l of d.links) this.addLink(l)
    if (d.domains) this.setDomains(d.domains)
    this.since = Math.max(this.since, d.max)
  }
}
