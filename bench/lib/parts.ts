/**
 * What the "where does the time go" scripts (bench/*-parts.ts) share: the bench server on the data a
 * full benchmark built (DATA_DIR), BENCH_RUNS, a regular expression choosing parts, and one timed query.
 */
import { queryRows } from '../../src/store/clickhouse.js'
import { startBenchServer, type BenchServer } from './bench-server.js'

export async function startParts(kind: 'pressure' | 'sequences', onlyVar: 'BENCH_PARTS' | 'BENCH_ONLY') {
  if (!process.env.DATA_DIR) throw new Error(`DATA_DIR: the directory bench/${kind}.ts built`)
  const bench = await startBenchServer(kind)
  const pattern = process.env[onlyVar]
  return {
    bench,
    db: bench.deps.events.db,
    runs: Number(process.env.BENCH_RUNS ?? 3),
    only: pattern ? new RegExp(pattern) : null,
  }
}

/** One query's rows, wall time and this process's CPU time (chDB runs in it), in ms. */
export async function timeQuery<T>(bench: BenchServer, sql: string, params: Record<string, unknown>): Promise<{ rows: T[]; wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const rows = await queryRows<T>(bench.deps.events, sql, params)
  const c = process.cpuUsage(c0)
  return { rows, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }
}
