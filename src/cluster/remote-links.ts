import type { MetaStore } from '../store/meta.js'
import { LinkCache, type CachedCampaign, type CachedLink } from '../tracking/links.js'

export interface LinkDelta {
  links: CachedLink[]
  campaigns: CachedCampaign[]
  /** Newest created_at seen, in ms: the next request's `since`. */
  max: number
}

/**
 * A worker's link cache: the embedded metadata store belongs to the primary, so the cache is
 * filled by asking it (over IPC) for what was created since the last answer. Misses refresh it
 * as LinkCache's do (shared by concurrent callers, at most once a second).
 */
export class RemoteLinkCache extends LinkCache {
  private pulledUpTo = 0

  constructor(private readonly fetchDelta: (since: number) => Promise<LinkDelta>) {
    super(null as unknown as MetaStore)
  }

  protected override async pullCreated(): Promise<void> {
    const d = await this.fetchDelta(this.pulledUpTo)
    for (const c of d.campaigns) this.addCampaign(c)
    for (const l of d.links) this.addLink(l)
    if (d.max > this.pulledUpTo) this.pulledUpTo = d.max
  }
}
