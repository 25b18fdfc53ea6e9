import type { Config } from './config.js'
import type { Journal } from './events/journal.js'
import type { EventSequence } from './events/sequence.js'
import type { EventWriter } from './events/writer.js'
import type { Logger } from './logger.js'
import type { EventStore } from './store/clickhouse.js'
import type { MetaStore } from './store/meta.js'
import type { Edge } from './tracking/edge.js'
import type { LinkCache } from './tracking/links.js'
import type { TokenCodec } from './tracking/token.js'

/**
 * The dependency container, built by the composition root (runtime.ts) and typed beside it.
 * Types only: any layer may `import type` it, and a service or query takes the narrow
 * `Pick<AppDeps, …>` it uses.
 */
export interface AppDeps {
  config: Config
  events: EventStore
  meta: MetaStore
  links: LinkCache
  tokens: TokenCodec
  journal: Journal
  writer: EventWriter
  /** Insert order of stored events (events.seq), shared by every writer of the process. */
  sequence: EventSequence
  /** Webhook deliveries (src/outbox/outbox.ts), as the layers above see them. */
  outbox: OutboxHandle
  edge: Edge
  log: Logger
  clock: () => number
}

/** What the API and the dashboard ask of the running outbox (src/outbox/outbox.ts implements it). */
export interface OutboxHandle {
  /** The highest events.seq a settle: verdict reader may take: every event at or below it was judged by the second pass. */
  readonly settledSeq: number
  /** An endpoint or its deliveries changed: its delivery loop reloads (or starts, or stops). */
  endpointChanged(id: string): void
}
