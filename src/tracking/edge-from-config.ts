import type { Config } from '../config.js'
import { clickIdCodecFor } from './click-id.js'
import type { Journal } from '../events/journal.js'
import { createEdge, type Edge } from './edge.js'
import type { LinkCache } from './links.js'
import { redirectLocation } from './redirect-location.js'
import { loadOrCreateSecret, TokenCodec } from './token.js'

/**
 * The edge as a server process runs it (a single process, or each cluster worker): tokens
 * checked against the tracker secret and its predecessors, addresses anonymised and proxies
 * trusted as configured, redirects decorated per campaign (UTM, click id).
 */
export function edgeFromConfig(config: Config, journal: Journal, links: LinkCache, clock?: () => number): { edge: Edge; tokens: TokenCodec } {
  const tokens = new TokenCodec([loadOrCreateSecret(config.dataDir, config.trackerSecret), ...config.trackerOldSecrets])
  const edge = createEdge({
    journal,
    links,
    tokens,
    trustProxy: config.trustProxy,
    ipV4Prefix: config.ipV4Prefix,
    ipV6Prefix: config.ipV6Prefix,
    clock,
    location: redirectLocation(links, clickIdCodecFor(config), config.ownDomains),
    publicBaseUrl: () => config.publicBaseUrl,
  })
  return { edge, tokens }
}
