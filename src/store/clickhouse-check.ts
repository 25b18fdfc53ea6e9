import { queryRows, type EventStore } from './clickhouse.js'

/** A start-up failure the operator can fix: printed as one line naming what to check, no stack. */
export class StartupError extends Error {}

/**
 * Checked once at start, before any migration: the server answers, and with
 * `CLICKHOUSE_CLUSTER` the cluster exists and the database engine decides how DDL is written
 * (a `Replicated` database takes no ON CLUSTER). Nothing is guessed: without the variable the
 * store is a single node even if the server has clusters.
 */
export async function checkClickHouse(store: EventStore, where: { url?: string | undefined }): Promise<void> {
  try {
    await queryRows(store, 'SELECT 1 AS ok')
  } catch (err) {
    const e = err as { code?: string; message?: string }
    const why = (e.code && /^[A-Z]/.test(e.code) ? `${e.code} ` : '') + (e.message ?? String(err)).split('\n')[0]!.slice(0, 200)
    throw new StartupError(
      !store.embedded
        ? `ClickHouse at ${where.url ?? 'CLICKHOUSE_URL'} does not answer (${why}): check CLICKHOUSE_URL, CLICKHOUSE_USER and CLICKHOUSE_PASSWORD, and that the server is up`
        : `the embedded ClickHouse could not start (${why}): check DATA_DIR is writable and not used by another sillage process`,
    )
  }
  const cluster = store.ddl?.cluster
  if (!cluster) return
  if (store.embedded) throw new StartupError('CLICKHOUSE_CLUSTER needs a ClickHouse server (CLICKHOUSE_URL); the embedded engine is one node')
  const clusters = await queryRows<{ cluster: string; shards: number; replicas: number }>(
    store,
    'SELECT cluster, uniqExact(shard_num) AS shards, max(replica_num) AS replicas FROM system.clusters GROUP BY cluster ORDER BY cluster',
  )
  const found = clusters.find((c) => c.cluster === cluster)
  if (!found) {
    throw new StartupError(
      `CLICKHOUSE_CLUSTER=${cluster} is not a cluster of this server (system.clusters has: ${clusters.map((c) => c.cluster).join(', ') || 'none'})`,
    )
  }
  if (Number(found.shards) > 1) {
    throw new StartupError(
      `CLICKHOUSE_CLUSTER=${cluster} has ${found.shards} shards; sillage supports one shard of N replicas (see docs/cluster.md for the multi-shard design)`,
    )
  }
  const [database] = await queryRows<{ engine: string }>(store, 'SELECT engine FROM system.databases WHERE name = {db:String}', { db: store.db })
  store.ddl = { cluster, replicatedDatabase: database?.engine === 'Replicated' }
  if (database && database.engine !== 'Replicated' && database.engine !== 'Atomic') {
    throw new StartupError(`database ${store.db} has engine ${database.engine}; on a cluster use Atomic (created ON CLUSTER by sillage) or Replicated`)
  }
}

/**
 * Mutations of `table` not finished yet. A periodic job that issues mutations checks this first:
 * after a timeout its last command may still be running on the server, and issuing another
 * would queue the same rewrite of the same parts again.
 */
export async function pendingMutations(store: EventStore, table: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    store,
    'SELECT count() AS n FROM system.mutations WHERE database = {db:String} AND table = {table:String} AND NOT is_done',
    { db: store.db, table },
  )
  return Number(row?.n ?? 0)
}
