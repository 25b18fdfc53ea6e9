import type { PeerJournalState } from '../events/journal.js'
import type { EdgeStats } from '../tracking/edge.js'
import type { CachedCampaign, CachedLink } from '../tracking/links.js'

/** IPC between a cluster's primary and its workers (node:cluster's channel, JSON-serialised). */
export type WorkerMessage =
  | { t: 'links'; req: number; since: number }
  | { t: 'stats'; edge: EdgeStats; journal: PeerJournalState }

export type PrimaryMessage =
  | { t: 'links'; req: number; links: CachedLink[]; campaigns: CachedCampaign[]; domains?: string[]; max: number }
  | { t: 'pending'; bytes: number }
  | { t: 'campaign'; campaign: CachedCampaign }
  | { t: 'link'; link: CachedLink }
  | { t: 'domains'; hosts: string[] }

/** The environment a worker is forked with. */
export const WORKER_ID_ENV = 'SILLAGE_WORKER_ID'
export const PRIMARY_PORT_ENV = 'SILLAGE_PRIMARY_PORT'

/** Each worker's journal directory: stable per worker id, so a restarted worker's events are not orphaned. */
export function workerJournalDir(journalDir: string, id: number): string {
  return `${journalDir}/w${id}`
}
