import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chDateTime, type EventStore } from './clickhouse.js'
import { renderStatement } from './clickhouse-ddl.js'

const DEFAULT_DIR = fileURLToPath(new URL('../../migrations/clickhouse/', import.meta.url))

/**
 * Applies the numbered .sql files in order and records each in `schema_migrations`.
 * `{db}` in a file stands for the configured database; statements are split on lines
 * ending with `;`. Each statement is rendered for the store's target (one node, or a cluster:
 * see clickhouse-ddl.ts) and is safe to run again, so a migration cut short (a crash, a
 * distributed-DDL timeout) is finished by the next start. Two instances starting together may
 * both run a statement (harmless) and record the migration once (the record's insert carries a
 * dedup token, kept in Keeper on a cluster); with PostgreSQL the runtime also serialises them.
 */
export async function migrateClickHouse(store: EventStore, dir = DEFAULT_DIR, clock: () => number = Date.now): Promise<string[]> {
  const { client, db } = store
  const target = store.ddl ?? {}
  const run = (statement: string, file: string) => runDdl(store, renderStatement(statement, target), file)
  if (!target.replicatedDatabase) await run(`CREATE DATABASE IF NOT EXISTS ${db}`, 'database')
  await run(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (name String, applied_at DateTime64(3, 'UTC'))
            ENGINE = MergeTree ORDER BY name SETTINGS non_replicated_deduplication_window = 1000`,
    'schema_migrations',
  )
  const rs = await client.query({ query: `SELECT DISTINCT name FROM ${db}.schema_migrations`, format: 'JSONEachRow' })
  const done = new Set((await rs.json<{ name: string }>()).map((r) => r.name))
  const files = readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()
  const applied: string[] = []
  for (const file of files) {
    if (done.has(file)) continue
    const sql = readFileSync(join(dir, file), 'utf8').replaceAll('{db}', db)
    for (const statement of splitStatements(sql)) await run(statement, file)
    await client.insert({
      table: `${db}.schema_migrations`,
      // Every column is ours (no now() default): replicas must store identical rows.
      values: [{ name: file, applied_at: chDateTime(clock()) }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `migration:${file}` },
    })
    applied.push(file)
  }
  return applied
}

/** A distributed-DDL timeout says which migration, and that re-running is safe, instead of a bare code. */
async function runDdl(store: EventStore, query: string, file: string): Promise<void> {
  try {
    await store.client.command({ query })
  } catch (err) {
    const code = (err as { code?: string }).code
    if (store.ddl?.cluster && code === '159') {
      throw new Error(
        `ClickHouse migration ${file}: distributed DDL on cluster ${store.ddl.cluster} did not finish on every replica in time ` +
          `(${(err as Error).message.slice(0, 300)}). It keeps running in the background; every statement is safe to re-run: ` +
          'check system.distributed_ddl_queue, then start again.',
      )
    }
    throw err
  }
}

export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n')
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean)
}
