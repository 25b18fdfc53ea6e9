import type { AppDeps } from './deps.js'
import type { Config } from './config.js'
import { Journal } from './events/journal.js'
import { EventWriter } from './events/writer.js'
import { startSecondPass } from './classification/second-pass.js'
import { createLogger, type Logger } from './logger.js'
import { createEventStore, type EventStore } from './store/clickhouse.js'
import { migrateClickHouse } from './store/clickhouse-migrate.js'
import { checkClickHouse } from './store/clickhouse-check.js'
import { exclusive } from './store/exclusive.js'
import { createMetaStore, type MetaStore } from './store/meta.js'
import { edgeFromConfig } from './tracking/edge-from-config.js'
import { LinkCache, linkDelta } from './tracking/links.js'
import { deprioritiseBackgroundThreads } from './util/thread-priority.js'

export interface RuntimeOptions {
  config: Config
  log?: Logger
  clock?: () => number
  /** Reuse stores made by the caller (tests share one chDB directory and a prepared PGlite). */
  events?: EventStore
  meta?: MetaStore
  beforeInsert?: () => void
}

/** Builds every dependency of the app from the config: stores migrated, caches loaded, writer running. */
export async function startRuntime(opts: RuntimeOptions): Promise<AppDeps & { stop(): Promise<void> }> {
  const { config } = opts
  const log = opts.log ?? createLogger(config.logLevel)
  const clock = opts.clock ?? Date.now
  const events =
    opts.events ??
    createEventStore({
      url: config.clickhouse.url,
      user: config.clickhouse.user,
      password: config.clickhouse.password,
      database: config.clickhouse.database,
      path: config.clickhouse.path,
      cluster: config.clickhouse.cluster,
      requestTimeoutMs: config.clickhouse.requestTimeoutMs,
    })
  // First, and before the metadata store's slower start: a wrong CLICKHOUSE_URL fails in a second.
  await checkClickHouse(events, { url: config.clickhouse.url })
  const meta = opts.meta ?? (await createMetaStore({ url: config.databaseUrl, path: config.metaPath, onConnectionError: (err) => log.warn('postgres_connection_lost', { message: err.message }) }))
  await meta.migrate()
  // Instances starting together on one PostgreSQL take turns; on PGlite there is one instance.
  const applied = await exclusive(meta, 'clickhouse-migrations', () => migrateClickHouse(events), { wait: true })
  if (applied.length) log.info('clickhouse_migrated', { applied })
  const links = new LinkCache((since) => linkDelta(meta, since), { refreshMs: config.linkRefreshMs, onError: (err) => log.warn('link_refresh_failed', { message: err.message }) })
  await links.load()
  const journal = new Journal({ dir: config.journalDir, fsyncIntervalMs: config.fsyncIntervalMs, maxBytes: config.journalMaxBytes, log })
  const writer = new EventWriter({ journal, store: events, batchSize: config.batchSize, flushIntervalMs: config.flushIntervalMs, log, beforeInsert: opts.beforeInsert })
  await writer.start()
  const stopNice = deprioritiseBackgroundThreads(config.ingestNice, (err) => log.warn('ingest_nice_failed', { message: err.message }))
  // The second classification pass runs beside the writer: one per ClickHouse, never in cluster workers.
  const secondPass = config.classifyPass.intervalMs > 0 ? startSecondPass({ events, meta, clock, log }, config.classifyPass) : null
  const { edge, tokens } = edgeFromConfig(config, journal, links, clock)
  return {
    config,
    events,
    meta,
    links,
    tokens,
    journal,
    writer,
    edge,
    log,
    clock,
    async stop() {
      links.close()
      journal.close()
      stopNice()
      await secondPass?.stop()
      await writer.stop()
      if (!opts.meta) await meta.close()
      if (!opts.events) await events.close()
    },
  }
}
