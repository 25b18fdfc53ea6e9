import type { MetaStore } from '../store/meta.js'
import { LinkCache, type CachedCampaign, type CachedLink } from '../tracking/links.js'

export interface LinkDelta {
  links: CachedLink[]
  campaigns: CachedCampaign[]
  /** Newest created_at seen, in ms: the next request's `since`. */
  max: number
}

/** At most one refresh per this period, however many unknown ids arrive (as LinkCache). */
const MIN_REFRESH_INTERVAL_MS = 1_000

/**
 * A worker's link cache: the embedded metadata store belongs to the primary, so the cache is
 * filled by asking it (over IPC) for what was created since the last answer.
 */
export class RemoteLinkCache extends LinkCache {
  private pulledUpTo = 0
  private lastPull = 0
  private pending: Promise<void> | null = null

  constructor(private readonly fetchDelta: (since: number) => Promise<LinkDelta>) {
    super(null as unknown as MetaStore)
  }

  override async load(): Promise<void> {
    await this.pull()
  }

  override async lookupLink(id: string): Promise<CachedLink | undefined> {
    await this.maybePull()
    return this.link(id)
  }

  override async lookupCampaign(id: string): Promise<CachedCampaign | undefined> {
    await this.maybePull()
    return this.campaign(id)
  }

  private maybePull(): Promise<void> {
    if (this.pending) return this.pending
    if (Date.now() - this.lastPull < MIN_REFRESH_INTERVAL_MS) return Promise.resolve()
    this.pending = this.pull().finally(() => {
      this.pending = null
    })
    return this.pending
  }

  private async pull(): Promise<void> {
    this.lastPull = Date.now()
    const d = await this.fetchDelta(this.pulledUpTo)
    for (const c of d.campaigns) this.addCampaign(c)
    for (const l of d.links) this.addLink(l)
    if (d.max > this.pulledUpTo) this.pulledUpTo = d.max
  }
}
