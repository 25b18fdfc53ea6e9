import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EventStore } from './clickhouse.js'

const DEFAULT_DIR = fileURLToPath(new URL('../../migrations/clickhouse/', import.meta.url))

/**
 * Applies the numbered .sql files in order and records each in `schema_migrations`.
 * `{db}` in a file stands for the configured database; statements are split on lines
 * ending with `;`.
 */
export async function migrateClickHouse(store: EventStore, dir = DEFAULT_DIR): Promise<string[]> {
  const { client, db } = store
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` })
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
            ENGINE = MergeTree ORDER BY name`,
  })
  const rs = await client.query({ query: `SELECT name FROM ${db}.schema_migrations`, format: 'JSONEachRow' })
  const done = new Set((await rs.json<{ name: string }>()).map((r) => r.name))
  const files = readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()
  const applied: string[] = []
  for (const file of files) {
    if (done.has(file)) continue
    const sql = readFileSync(join(dir, file), 'utf8').replaceAll('{db}', db)
    for (const statement of splitStatements(sql)) await client.command({ query: statement })
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ name: file }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `migration:${file}` },
    })
    applied.push(file)
  }
  return applied
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
