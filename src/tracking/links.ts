import { gte } from 'drizzle-orm'
import type { MetaStore } from '../store/meta.js'
import { campaigns, links, type CampaignSettings } from '../store/schema.js'

export interface CachedLink {
  id: string
  campaignId: string
  url: string
  /** The link's label (utm_content when the campaign asks for UTM decoration). */
  label?: string
}

export interface CachedCampaign {
  id: string
  settings: CampaignSettings
}

/** What a refresh brings: links and campaigns created since a time, and the newest creation time seen (ms). */
export interface LinkDelta {
  links: CachedLink[]
  campaigns: CachedCampaign[]
  max: number
}

/** How far back an incremental refresh looks, to cover clock skew between API instances and rows committed out of order. */
const REFRESH_OVERLAP_MS = 10_000

/** Links and campaigns created since `since` (ms) in the metadata store: the one query every cache is filled from. */
export async function linkDelta(meta: MetaStore, since: number): Promise<LinkDelta> {
  const from = new Date(Math.max(0, since - REFRESH_OVERLAP_MS))
  const cs = await meta.db.select({ id: campaigns.id, settings: campaigns.settings, createdAt: campaigns.createdAt }).from(campaigns).where(gte(campaigns.createdAt, from))
  const ls = await meta.db
    .select({ id: links.id, campaignId: links.campaignId, url: links.url, label: links.label, createdAt: links.createdAt })
    .from(links)
    .where(gte(links.createdAt, from))
  let max = since
  for (const r of [...cs, ...ls]) max = Math.max(max, r.createdAt.getTime())
  return {
    campaigns: cs.map((c) => ({ id: c.id, settings: c.settings })),
    // The label is the link's utm_content when its campaign asks for UTM parameters.
    links: ls.map((l) => ({ id: l.id, campaignId: l.campaignId, url: l.url, label: l.label })),
    max,
  }
}
/** At most one refresh per this period, however many unknown ids arrive. */
const MIN_REFRESH_INTERVAL_MS = 1_000

/**
 * Every link and campaign, in memory. Links are immutable once created, so entries never go
 * stale; a link created by another instance is picked up by an incremental refresh that a miss
 * triggers at most once a second (a flood of unknown ids costs one query per second, not one each).
 * Campaigns change (their settings decide the redirect's decoration): see onCampaign.
 * `pull` is linkDelta over the metadata store, or, in a cluster worker, the same asked of the primary.
 */
export class LinkCache {
  private readonly links = new Map<string, CachedLink>()
  private readonly campaigns = new Map<string, CachedCampaign>()
  private since = 0
  private lastRefresh = 0
  private inflight: Promise<void> | null = null

  constructor(private readonly pull: (since: number) => Promise<LinkDelta>) {}

  async load(): Promise<void> {
    await this.refresh()
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

  addLink(link: CachedLink): void {
    this.links.set(link.id, link)
  }

  addCampaign(c: CachedCampaign): void {
    this.campaigns.set(c.id, c)
    for (const l of this.campaignListeners) l(c)
  }

  /**
   * Called when this process creates or changes a campaign (its settings decide the redirect's
   * decoration): a cluster's primary passes it on to its workers, whose caches never see the
   * change otherwise (a refresh only picks up what is new, and only on a miss).
   */
  onCampaign(listener: (c: CachedCampaign) => void): void {
    this.campaignListeners.push(listener)
  }

  private readonly campaignListeners: Array<(c: CachedCampaign) => void> = []

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
    this.inflight = start
      .then(() => this.refresh())
      .finally(() => {
        this.inflight = null
      })
    return this.inflight
  }

  private async refresh(): Promise<void> {
    this.lastRefresh = Date.now()
    const d = await this.pull(this.since)
    // A campaign already known is kept: its changes in this process come through addCampaign
    // (or the primary's push), and a refresh that read the store before such a change would undo it.
    for (const c of d.campaigns) if (!this.campaigns.has(c.id)) this.addCampaign(c)
    for (const l of d.links) this.links.set(l.id, l)
    this.since = Math.max(this.since, d.max)
  }
}
