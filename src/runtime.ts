import type { AppDeps } from './deps.js'
import type { Config } from './config.js'
import { Journal } from './events/journal.js'
import { EventWriter } from './events/writer.js'
import { EventSequence } from './events/sequence.js'
import { onStoredUpdates } from './classification/apply.js'
import { Outbox } from './outbox/outbox.js'
import { LoopPacer } from './outbox/pace.js'
import { TriggerRunner } from './outbox/triggers.js'
import { startSecondPass } from './classification/second-pass.js'
import { createLogger, type Logger } from './logger.js'
import { createEventStore, type EventStore } from './store/clickhouse.js'
import { migrateClickHouse } from './store/clickhouse-migrate.js'
import { checkClickHouse } from './store/clickhouse-check.js'
import { exclusive } from './store/exclusive.js'
import { startRecentSendsPrune } from './store/recent-sends.js'
import { stopSendOutcomes } from './store/send-outcomes.js'
import { stopSequenceMirror } from './services/sequences.js'
import { funnelDaysIdle } from './store/sequence-funnel-days.js'
import { applyRetention } from './store/retention.js'
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
      backupsPath: config.backupsDir,
    })
  // First, and before the metadata store's slower start: a wrong CLICKHOUSE_URL fails in a second.
  await checkClickHouse(events, { url: config.clickhouse.url })
  const meta = opts.meta ?? (await createMetaStore({ url: config.databaseUrl, path: config.metaPath, onConnectionError: (err) => log.warn('postgres_connection_lost', { message: err.message }) }))
  await meta.migrate()
  // Instances starting together on one PostgreSQL take turns; on PGlite there is one instance.
  const applied = await exclusive(meta, 'clickhouse-migrations', () => migrateClickHouse(events), { wait: true })
  if (applied.length) log.info('clickhouse_migrated', { applied })
  // Under the same lock as the migrations: instances starting together alter the TTL once.
  const ttl = await exclusive(meta, 'clickhouse-migrations', () => applyRetention(events, config.retention), { wait: true })
  if (ttl.length) log.info('retention_applied', { tables: ttl, ...config.retention })
  const links = new LinkCache((since) => linkDelta(meta, since), { refreshMs: config.linkRefreshMs, onError: (err) => log.warn('link_refresh_failed', { message: err.message }) })
  await links.load()
  const journal = new Journal({ dir: config.journalDir, fsyncIntervalMs: config.fsyncIntervalMs, maxBytes: config.journalMaxBytes, log })
  // Before any writer starts: batches recorded in their checkpoints are held in flight until replayed.
  const sequence = await EventSequence.load(events, config.journalDir, clock)
  const writer = new EventWriter({ journal, store: events, batchSize: config.batchSize, flushIntervalMs: config.flushIntervalMs, log, beforeInsert: opts.beforeInsert, sequence })
  await writer.start()
  const { edge, tokens } = edgeFromConfig(config, journal, links, clock)
  // One process (no cluster): the edge shares this event loop with delivery, which leaves it room.
  const s = edge.stats
  const pacer = config.cluster ? null : new LoopPacer(() => s.click302 + s.click404 + s.click410 + s.open200)
  const outbox = new Outbox({ events, meta, config, log, clock, sequence }, config.classifyPass.intervalMs > 0, pacer)
  const stopNice = deprioritiseBackgroundThreads(config.ingestNice, (err) => log.warn('ingest_nice_failed', { message: err.message }))
  // The second classification pass runs beside the writer: one per ClickHouse, never in cluster workers.
  const secondPass = config.classifyPass.intervalMs > 0 ? startSecondPass({ events, meta, clock, log }, { ...config.classifyPass, onSettled: (to) => outbox.settle.passCompleted(to) }) : null
  await outbox.start((fn) => onStoredUpdates(events, fn))
  // The cap check's table of recent sends (migration 3400) kept to its horizon (a mutation every few hours).
  const stopPrune = startRecentSendsPrune(events, (err) => log.warn('recent_sends_prune_failed', { message: err.message }))
  const deps: AppDeps = { config, events, meta, links, tokens, journal, writer, sequence, outbox, edge, log, clock }
  const triggers = new TriggerRunner(deps)
  triggers.start()
  return {
    config,
    events,
    meta,
    links,
    tokens,
    journal,
    writer,
    sequence,
    outbox,
    edge,
    log,
    clock,
    async stop() {
      await triggers.stop()
      stopPrune()
      await outbox.stop()
      links.close()
      journal.close()
      stopNice()
      await secondPass?.stop()
      // The catch-ups after answers (fatigue rows, the sequence mirror) end before the stores close.
      await stopSendOutcomes(events)
      await stopSequenceMirror(meta)
      // A funnel read's computation of its days, if one is running.
      await funnelDaysIdle()
      await writer.stop()
      if (!opts.meta) await meta.close()
      if (!opts.events) await events.close()
    },
  }
}
