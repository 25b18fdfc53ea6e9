import { mkdirSync } from 'node:fs'
import { Readable } from 'node:stream'
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import { Session } from 'chdb'
import { createChdbConnection } from 'chdb/connection'
import type { DdlTarget } from './clickhouse-ddl.js'
import { esc } from '../events/event.js'

export interface ClickHouseOptions {
  /** http(s) URL of a ClickHouse server; unset → the embedded engine (chDB) on `path`. */
  url?: string | undefined
  user?: string
  password?: string
  /** Database holding sillage's tables. Tests use one per test file inside one chDB directory. */
  database: string
  path: string
  /** `CLICKHOUSE_CLUSTER`: replicated tables and ON CLUSTER DDL (see clickhouse-ddl.ts); server only. */
  cluster?: string | undefined
  /** How long one request to a server may take before it fails and the caller retries (default 30 s). */
  requestTimeoutMs?: number
  /**
   * The only directory the embedded engine may write a BACKUP to or RESTORE from (its
   * backups.allowed_path, given when the engine starts: it is not a setting). Unset: none.
   */
  backupsPath?: string
}

/**
 * The event store: a `@clickhouse/client` client and the database it works in.
 * Table names are always qualified with `db` because chDB's connection ignores the
 * client's default database; `db` is validated as an identifier by the config.
 */
export interface EventStore {
  client: ClickHouseClient
  db: string
  embedded: boolean
  /** Where DDL goes: set by checkClickHouse at start (the database engine is read from the server). */
  ddl?: DdlTarget
  close(): Promise<void>
}

/** libchdb accepts one data directory per process: share one connection for it. */
let embedded: { path: string; client: ClickHouseClient; users: number; engine?: Session } | undefined

export function createEventStore(opts: ClickHouseOptions): EventStore {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.database)) throw new Error(`invalid ClickHouse database name: ${opts.database}`)
  if (opts.url) {
    const client = createClient({
      url: opts.url,
      username: opts.user ?? 'default',
      password: opts.password ?? '',
      request_timeout: opts.requestTimeoutMs ?? 30_000,
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      // Failures reach our own log once, with the request they belong to (the writer's, the API's).
      log: { level: ClickHouseLogLevel.OFF },
    })
    return { client, db: opts.database, embedded: false, ddl: { cluster: opts.cluster }, close: () => client.close() }
  }
  if (embedded && embedded.path !== opts.path) {
    throw new Error(`the embedded ClickHouse is already open on ${embedded.path}; one data directory per process`)
  }
  if (!embedded) {
    mkdirSync(opts.path, { recursive: true })
    // The engine takes its start-up arguments from the first session on a path (the client's
    // connection below shares that engine); this session stays open with it, for the process's life.
    const engine = opts.backupsPath ? new Session(opts.path, { connectionArgs: [`--backups.allowed_path=${opts.backupsPath}`] }) : undefined
    embedded = { path: opts.path, client: createClient({
        // chdb ships its own copy of the client-common types; the runtime contract is the same.
        connection: createChdbConnection({ path: opts.path }) as never,
      }), users: 0, engine }
  }
  const shared = embedded
  shared.users++
  let closed = false
  return {
    client: shared.client,
    db: opts.database,
    embedded: true,
    async close() {
      if (closed) return
      closed = true
      // The engine stays open for the life of the process: reopening chDB in one process is not supported.
      shared.users--
    },
  }
}

/** Rows of a SELECT as objects; numbers come back as numbers on both engines. */
export async function queryRows<T>(store: EventStore, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.client.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0, output_format_json_quote_decimals: 1 },
  })
  return rs.json<T>()
}

/** `YYYY-MM-DD hh:mm:ss.mmm` in UTC: what DateTime64(3) parses on every ClickHouse version. */
export function chDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ')
}

/** A value as one TabSeparated field, escaped as the journal's are. */
function tsvField(v: string | number): string {
  return typeof v === 'number' ? String(v) : esc(v)
}

/**
 * Inserts rows given as arrays in `columns`' order, as TabSeparated text. Many rows at once: on
 * 10,000 rows JSONEachRow cost ~170–250 ms of CPU (objects encoded, then each key matched by the
 * engine), TabSeparated ~45 ms (bench/README.md, seventh session, sequences).
 */
export async function insertRows(
  store: EventStore,
  table: string,
  columns: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
  settings: Record<string, string | number> = {},
): Promise<void> {
  if (rows.length === 0) return
  let text = ''
  for (const r of rows) text += r.map(tsvField).join('\t') + '\n'
  await store.client.insert({
    table: `${store.db}.${table}`,
    columns: columns as [string, ...string[]],
    values: Readable.from([text], { objectMode: false }),
    format: 'TabSeparated',
    clickhouse_settings: settings,
  })
}
