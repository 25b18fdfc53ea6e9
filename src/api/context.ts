import type { Config } from '../config.js'
import type { Journal } from '../events/journal.js'
import type { EventWriter } from '../events/writer.js'
import type { Logger } from '../logger.js'
import type { EventStore } from '../store/clickhouse.js'
import type { MetaStore } from '../store/meta.js'
import type { ApiKeyRole } from '../store/schema.js'
import type { Edge } from '../tracking/edge.js'
import type { LinkCache } from '../tracking/links.js'
import type { TokenCodec } from '../tracking/token.js'

/** Everything a handler may use, injected by the entry point (or by a test). */
export interface AppDeps {
  config: Config
  events: EventStore
  meta: MetaStore
  links: LinkCache
  tokens: TokenCodec
  journal: Journal
  writer: EventWriter
  edge: Edge
  log: Logger
  clock: () => number
}

export interface AppEnv {
  Variables: {
    deps: AppDeps
    requestId: string
    apiKeyId: string
    apiKeyRole: ApiKeyRole
  }
}
