import cluster, { type Worker } from 'node:cluster'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AppDeps } from '../deps.js'
import type { Config } from '../config.js'
import { EventWriter } from '../events/writer.js'
import type { Logger } from '../logger.js'
import type { MetricsSnapshot } from '../observability/metrics.js'
import { startRuntime } from '../runtime.js'
import { createServer } from '../server.js'
import type { EdgeStats } from '../tracking/edge.js'
import { linkDelta } from '../tracking/links.js'
import { PRIMARY_PORT_ENV, WORKER_ID_ENV, workerJournalDir, type PrimaryMessage, type WorkerMessage } from './protocol.js'
import { existingWorkerIds, WorkerJournalDir } from './worker-journal.js'

/** One writer per worker journal directory: each with its own checkpoint, all into the same ClickHouse. */
export async function startWorkerDirWriters(deps: AppDeps, ids: number[], beforeInsert?: () => void): Promise<Map<number, { source: WorkerJournalDir; writer: EventWriter }>> {
  const out = new Map<number, { source: WorkerJournalDir; writer: EventWriter }>()
  for (const id of ids) {
    const source = new WorkerJournalDir(workerJournalDir(deps.config.journalDir, id))
    const writer = new EventWriter({ journal: source, store: deps.events, batchSize: deps.config.batchSize, flushIntervalMs: deps.config.flushIntervalMs, log: deps.log, beforeInsert, sequence: deps.sequence })
    await writer.start()
    out.set(id, { source, writer })
  }
  return out
}

/**
 * The cluster's primary: it alone opens the embedded stores (one process per data directory),
 * runs every writer, and serves the API on a loopback port that only its workers call. Workers
 * serve the public port: the edge themselves, everything else forwarded here.
 */
export async function startPrimary(config: Config, log: Logger): Promise<{ stop(): Promise<void> }> {
  // Requests reach this server only through workers, which set X-Forwarded-For to the reader's address.
  const runtime = await startRuntime({ config: { ...config, trustProxy: true }, log })
  const ids = Array.from({ length: config.workers }, (_, i) => i + 1)
  const writers = await startWorkerDirWriters(runtime, [...new Set([...ids, ...existingWorkerIds(config.journalDir)])])
  const edgeStats = new Map<number, EdgeStats>()

  const { server } = createServer(runtime, {
    metrics: (own): MetricsSnapshot => ({
      ...own,
      edge: [...own.edge, ...edgeStats.values()],
      writers: [...own.writers, ...[...writers.values()].map((w) => w.writer.stats)],
      workers: config.workers,
    }),
  })
  await listen(server)
  const internalPort = (server.address() as AddressInfo).port

  let stopping = false
  const journalAppended = new Map<number, number>()
  const workers = new Map<number, Worker>()
  const fork = (id: number) => {
    const w = cluster.fork({ [WORKER_ID_ENV]: String(id), [PRIMARY_PORT_ENV]: String(internalPort) })
    workers.set(id, w)
    const entry = writers.get(id)!
    entry.source.onPending = (bytes) => {
      if (w.isConnected()) w.send({ t: 'pending', bytes } satisfies PrimaryMessage)
    }
    w.on('message', (m: WorkerMessage) => {
      if (m.t === 'links') {
        linkDelta(runtime.meta, m.since).then(
          (d) => w.isConnected() && w.send({ t: 'links', req: m.req, ...d } satisfies PrimaryMessage),
          (err) => log.error('link_delta_failed', { message: (err as Error).message }),
        )
      } else if (m.t === 'stats') {
        edgeStats.set(id, m.edge)
        runtime.journal.reportPeer(`w${id}`, m.journal)
        // A restarted worker counts from zero again.
        const prev = journalAppended.get(id) ?? 0
        const now = m.journal.stats.appended
        const delta = now >= prev ? now - prev : now
        journalAppended.set(id, now)
        if (delta > 0) entry.source.linesAppended(delta)
      }
    })
    w.on('exit', (code, signal) => {
      workers.delete(id)
      if (stopping) return
      // Before every worker listens (port taken, bad config): the start fails instead of forking forever.
      if (!started) return startFailed(new Error(`edge worker ${id} exited (code ${code}, signal ${signal}) before listening`))
      // Its journal directory stays and is drained; a new worker with the same id continues it.
      log.error('worker_exited', { worker: id, code, signal })
      setTimeout(() => !stopping && fork(id), 500).unref()
    })
  }
  // A campaign's changed settings (UTM, click id) reach every worker's cache at once.
  runtime.links.onCampaign((campaign) => {
    for (const w of workers.values()) if (w.isConnected()) w.send({ t: 'campaign', campaign } satisfies PrimaryMessage)
  })
  // So do a link's new URL or retirement, and the set of tracking domains.
  runtime.links.onLink((link) => {
    for (const w of workers.values()) if (w.isConnected()) w.send({ t: 'link', link } satisfies PrimaryMessage)
  })
  runtime.links.onDomains((hosts) => {
    for (const w of workers.values()) if (w.isConnected()) w.send({ t: 'domains', hosts } satisfies PrimaryMessage)
  })
  let started = false
  let startFailed: (err: Error) => void = () => undefined
  const failure = new Promise<never>((_, reject) => (startFailed = reject))
  for (const id of ids) fork(id)
  try {
    await Promise.race([Promise.all([...workers.values()].map((w) => new Promise<void>((res) => w.once('listening', () => res())))), failure])
  } catch (err) {
    stopping = true
    for (const w of workers.values()) w.process.kill('SIGKILL')
    server.close()
    for (const { writer } of writers.values()) await writer.stop()
    await runtime.stop()
    throw err
  }
  started = true
  log.info('listening', {
    url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`,
    workers: config.workers,
    clickhouse: runtime.events.embedded ? `embedded (chDB) at ${config.clickhouse.path}` : config.clickhouse.url,
    metadata: runtime.meta.kind === 'pglite' ? `PGlite at ${config.metaPath}` : 'PostgreSQL',
  })

  return {
    async stop() {
      stopping = true
      // Workers stop accepting, answer what is in flight and close their journals; then everything is flushed.
      await Promise.all(
        [...workers.values()].map(
          (w) =>
            new Promise<void>((res) => {
              if (w.isDead()) return res()
              w.once('exit', () => res())
              w.kill('SIGTERM')
              setTimeout(() => w.process.kill('SIGKILL'), 10_000).unref()
            }),
        ),
      )
      server.close()
      server.closeAllConnections()
      for (const { writer } of writers.values()) await writer.stop()
      await runtime.stop()
    },
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res()))
}
