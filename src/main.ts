import cluster from 'node:cluster'
import { startPrimary, startWorkerDirWriters } from './cluster/primary.js'
import { existingWorkerIds } from './cluster/worker-journal.js'
import { PRIMARY_PORT_ENV, WORKER_ID_ENV } from './cluster/protocol.js'
import { startWorker } from './cluster/worker.js'
import { ConfigError, parseConfig, type Config } from './config.js'
import { createLogger, type Logger } from './logger.js'
import { startRuntime } from './runtime.js'
import { StartupError } from './store/clickhouse-check.js'
import { createServer } from './server.js'

async function main() {
  let config
  try {
    config = parseConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sillage: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const baseLog = createLogger(config.logLevel)
  if (cluster.isWorker) {
    const id = Number(process.env[WORKER_ID_ENV])
    const log = withFields(baseLog, { worker: id })
    return startWorker(config, log, id, Number(process.env[PRIMARY_PORT_ENV]))
  }
  // Signals are taken from the first moment: a SIGTERM while the stores open (or while the last
  // worker starts, after a first one already answers) stops the server once it has started,
  // instead of killing it half-started with the default action.
  const started = config.cluster ? startPrimary(config, baseLog) : single(config, baseLog)
  onSignals(baseLog, async () => (await started).stop())
  await started
}

/** WORKERS=1 (without CLUSTER=1): one process serves everything and owns the stores. */
async function single(config: Config, log: Logger): Promise<{ stop(): Promise<void> }> {
  const runtime = await startRuntime({ config, log })
  // Journals left by an earlier run in cluster mode are drained too: nothing is orphaned.
  const leftovers = await startWorkerDirWriters(runtime, existingWorkerIds(config.journalDir))
  const { server } = createServer(runtime, {
    metrics: (own) => ({ ...own, writers: [...own.writers, ...[...leftovers.values()].map((w) => w.writer.stats)] }),
  })
  server.listen(config.port, config.host, () => {
    const addr = server.address()
    const port = typeof addr === 'object' && addr ? addr.port : config.port
    log.info('listening', {
      url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
      workers: 1,
      clickhouse: runtime.events.embedded ? `embedded (chDB) at ${config.clickhouse.path}` : config.clickhouse.url,
      metadata: runtime.meta.kind === 'pglite' ? `PGlite at ${config.metaPath}` : 'PostgreSQL',
      adminKey: config.adminKey ? 'set' : 'not set (TRACKER_ADMIN_KEY): only keys created earlier are accepted, and without an admin one no key can be created',
    })
  })
  return {
    async stop() {
      // Stop accepting, let in-flight requests finish, then flush the journal into ClickHouse.
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        setTimeout(() => server.closeAllConnections(), 5_000).unref()
      })
      for (const { writer } of leftovers.values()) await writer.stop()
      await runtime.stop()
    },
  }
}

function onSignals(log: Logger, stop: () => Promise<void>) {
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second signal while a start or a stop hangs (a store that never answers): leave now.
      log.warn('forced_exit', { signal })
      process.exit(1)
    }
    stopping = true
    log.info('shutting_down', { signal })
    stop().then(
      () => {
        log.info('stopped')
        process.exit(0)
      },
      (err) => {
        log.error('shutdown_failed', { message: (err as Error).message })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  return {
    debug: (m, f) => log.debug(m, { ...fields, ...f }),
    info: (m, f) => log.info(m, { ...fields, ...f }),
    warn: (m, f) => log.warn(m, { ...fields, ...f }),
    error: (m, f) => log.error(m, { ...fields, ...f }),
  }
}

main().catch((err) => {
  if (err instanceof StartupError) {
    process.stderr.write(`sillage: ${err.message}\n`)
    process.exit(1)
  }
  process.stderr.write(`sillage: failed to start: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
