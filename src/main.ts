import { ConfigError, parseConfig } from './config.js'
import { createLogger } from './logger.js'
import { startRuntime } from './runtime.js'
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
  const log = createLogger(config.logLevel)
  const runtime = await startRuntime({ config, log })
  const { server } = createServer(runtime)
  server.listen(config.port, config.host, () => {
    const addr = server.address()
    const port = typeof addr === 'object' && addr ? addr.port : config.port
    log.info('listening', {
      url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
      clickhouse: runtime.events.embedded ? `embedded (chDB) at ${config.clickhouse.path}` : config.clickhouse.url,
      metadata: runtime.meta.kind === 'pglite' ? `PGlite at ${config.metaPath}` : 'PostgreSQL',
      adminKey: config.adminKey ? 'set' : 'not set (TRACKER_ADMIN_KEY): the API refuses every request',
    })
  })

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('shutting_down', { signal })
    // Stop accepting, let in-flight requests finish, then flush the journal into ClickHouse.
    server.close(async () => {
      await runtime.stop()
      log.info('stopped')
      process.exit(0)
    })
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), 5_000).unref()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((err) => {
  process.stderr.write(`sillage: failed to start: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
