/**
 * The migrations are written once, for a single node; this renders each statement for where it
 * runs. Single node (the embedded engine, one server, ClickHouse Cloud): unchanged. A cluster
 * (`CLICKHOUSE_CLUSTER`, one shard of N replicas):
 *
 * - tables are Replicated (`ReplicatedMergeTree`, `ReplicatedReplacingMergeTree`) with the
 *   `{shard}`/`{replica}` macros each server defines, and their dedup window is the replicated one
 *   (block hashes kept in Keeper, so a batch retried on another replica is still dropped);
 * - schema changes (CREATE, ADD/DROP PROJECTION or INDEX, MODIFY TTL) go `ON CLUSTER`, so every
 *   replica gets the table, and every materialized view (it fires on the replica that took the
 *   insert); ClickHouse runs an ALTER of a Replicated table once per shard;
 * - data changes (MATERIALIZE, UPDATE, DELETE) never go `ON CLUSTER`: a mutation of a Replicated
 *   table is replicated through Keeper, and sending it to every replica would run it N times;
 * - in a `Replicated` database nothing goes `ON CLUSTER` (the database replicates its DDL itself,
 *   and refuses the clause) and engines take no arguments (the database names the Keeper path).
 */
export interface DdlTarget {
  /** Cluster name from `CLICKHOUSE_CLUSTER`; unset: a single node. */
  cluster?: string | undefined
  /** The database's engine is `Replicated` (read from system.databases at start). */
  replicatedDatabase?: boolean
}

/** How long a retried batch's token is remembered: the writer retries for far less than this. */
export const DEDUP_WINDOW_BLOCKS = 10_000
export const DEDUP_WINDOW_SECONDS = 7 * 24 * 3600

const SCHEMA_ALTER = /^\s*ALTER\s+TABLE\s+\S+\s+(ADD|DROP|MODIFY|COMMENT|RENAME|CLEAR|REMOVE)\s+(PROJECTION|INDEX|COLUMN|TTL|SETTING|CONSTRAINT)\b/i
const MUTATION = /^\s*ALTER\s+TABLE\s+\S+\s+(MATERIALIZE|UPDATE|DELETE)\b/i

export function isClustered(target: DdlTarget): boolean {
  return Boolean(target.cluster)
}

/** The statement for `target`; `db` is already substituted for `{db}`. */
export function renderStatement(statement: string, target: DdlTarget): string {
  if (!target.cluster) return statement
  const onCluster = target.replicatedDatabase ? '' : ` ON CLUSTER ${quoteIdentifier(target.cluster)}`
  let s = statement
  const create = /^(\s*CREATE\s+(?:TABLE|DATABASE|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?)([A-Za-z_][\w.]*)/i.exec(s)
  if (create) {
    const [whole, head = '', name = ''] = create
    const dot = name.indexOf('.')
    s = head + name + onCluster + s.slice(whole.length)
    return replicateEngine(s, dot < 0 ? '' : name.slice(0, dot), name.slice(dot + 1), Boolean(target.replicatedDatabase))
  }
  if (MUTATION.test(s)) return s
  const alter = /^(\s*ALTER\s+TABLE\s+)([A-Za-z_][\w.]*)/i.exec(s)
  if (alter && SCHEMA_ALTER.test(s)) return `${alter[1]}${alter[2]}${onCluster}${s.slice(alter[0].length)}`
  return s
}

function replicateEngine(statement: string, database: string, table: string, replicatedDatabase: boolean): string {
  // One Keeper path per table of the database; {shard} and {replica} are each server's macros.
  const path = `'/clickhouse/tables/{shard}/${database}/${table}', '{replica}'`
  return statement
    .replace(/ENGINE\s*=\s*(Replacing|Summing|Aggregating|Collapsing)?MergeTree(?:\(([^)]*)\))?/i, (_m, kind: string | undefined, args: string | undefined) => {
      const rest = args?.trim() ? args.trim() : ''
      const all = replicatedDatabase ? rest : rest ? `${path}, ${rest}` : path
      return `ENGINE = Replicated${kind ?? ''}MergeTree(${all})`
    })
    .replace(
      /non_replicated_deduplication_window\s*=\s*\d+/i,
      `replicated_deduplication_window = ${DEDUP_WINDOW_BLOCKS}, replicated_deduplication_window_seconds = ${DEDUP_WINDOW_SECONDS}`,
    )
}

export function quoteIdentifier(name: string): string {
  return "'" + name.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'"
}
