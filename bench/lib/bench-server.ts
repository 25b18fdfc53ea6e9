import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AppDeps } from '../../src/deps.js'
import { parseConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import { createServer } from '../../src/server.js'
import { listCampaigns, listLinks } from '../../src/services/campaigns.js'
import { generateMetricsData, type BenchData } from './metrics-data.js'

export const BENCH_KEY = 'bench-admin-key-0123456789'

/** Size of the metrics data set and timed runs per endpoint, from the environment (1 M sends, 10 M events, 10 campaigns, 9 runs). */
export const BENCH_SIZE = {
  sends: Number(process.env.BENCH_SENDS ?? 1_000_000),
  events: Number(process.env.BENCH_EVENTS ?? 10_000_000),
  campaigns: Number(process.env.BENCH_CAMPAIGNS ?? 10),
  runs: Number(process.env.BENCH_RUNS ?? 9),
}

export interface BenchServer {
  deps: AppDeps
  /** http://127.0.0.1:PORT */
  base: string
  dataDir: string
  /** Closes the server and the stores; removes the data directory unless DATA_DIR or BENCH_KEEP is set. */
  stop(): Promise<void>
}

/**
 * The whole app in this process (the embedded engine runs in it, so its CPU time is the
 * benchmark's), on DATA_DIR or a fresh temp directory, with the classification pass off so
 * it does not run during a measurement.
 */
export async function startBenchServer(name: string): Promise<BenchServer> {
  const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), `sillage-bench-${name}-`))
  const config = parseConfig({ DATA_DIR: dataDir, TRACKER_ADMIN_KEY: BENCH_KEY, PORT: '0', CLASSIFY_PASS_INTERVAL_MS: '0', LOG_LEVEL: 'warn' })
  // BENCH_NOW=<ISO time>: a fixed clock (answers that depend on now, e.g. the funnel's due, compared across runs).
  const fixed = process.env.BENCH_NOW ? Date.parse(process.env.BENCH_NOW) : null
  const deps = await startRuntime({ config, log: createLogger('warn'), ...(fixed !== null ? { clock: () => fixed } : {}) })
  const { server } = createServer(deps)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    deps,
    base,
    dataDir,
    async stop() {
      server.closeAllConnections()
      server.close()
      await deps.stop()
      if (!process.env.DATA_DIR && !process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * The metrics data set: with DATA_DIR set and BENCH_REUSE=1, the one an earlier run generated
 * there (to measure before and after a change on the same data), else a new one of BENCH_SIZE.
 */
export async function metricsDataSet(s: BenchServer): Promise<BenchData> {
  const existing = process.env.BENCH_REUSE ? (await listCampaigns(s.deps, { limit: 1000, offset: 0 })).map((c) => c.id).filter((id) => id.startsWith('bench-')) : []
  if (existing.length > 0) {
    const links: Record<string, string[]> = {}
    for (const id of existing) links[id] = (await listLinks(s.deps, id)).map((l) => l.id)
    console.log(`reusing ${existing.length} campaign(s) in ${s.dataDir}`)
    return { campaigns: existing, links, recipientsPerCampaign: 0 }
  }
  const t = performance.now()
  const data = await generateMetricsData(s.deps, BENCH_SIZE)
  console.log(`generated ${BENCH_SIZE.sends} sends and ${BENCH_SIZE.events} events over ${BENCH_SIZE.campaigns} campaign(s) in ${((performance.now() - t) / 1000).toFixed(1)} s (DATA_DIR ${s.dataDir})`)
  return data
}
