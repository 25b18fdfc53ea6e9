import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { sql, type Column } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import * as schema from './schema.js'

export type MetaDb = PgDatabase<PgQueryResultHKT, typeof schema>

/**
 * `column = ANY($1::text[])`: one parameter for the whole list. drizzle's inArray binds one
 * parameter per value, and PGlite took ~0.3-0.5 s to plan a 10,000-value IN list (~30 ms for this).
 */
export const anyOf = (column: Column, values: readonly string[]) => sql`${column} = ANY(${sql.param(values)}::text[])`

export interface MetaStore {
  db: MetaDb
  kind: 'pglite' | 'postgres'
  /** The embedded client, when there is one (tests dump and clone its data directory). */
  pglite?: PGlite
  migrate(): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface MetaOptions {
  /** postgres:// URL; unset → PGlite. */
  url?: string | undefined
  /** PGlite data directory, or 'memory://'. */
  path: string
  /** A PGlite data directory dump to start from (tests clone one prepared database). */
  loadDataDir?: Blob
  /**
   * An idle PostgreSQL connection lost (a server restart, an administrator terminating it): the
   * pool drops it and opens another on the next query. Without a listener, node-postgres's
   * 'error' event would end the process.
   */
  onConnectionError?: (err: Error) => void
}

const MIGRATIONS = fileURLToPath(new URL('../../migrations/meta/', import.meta.url))

export async function createMetaStore(opts: MetaOptions): Promise<MetaStore> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: 10 })
    pool.on('error', (err) => opts.onConnectionError?.(err))
    const db = drizzlePg(pool, { schema }) as unknown as MetaDb
    return {
      db,
      kind: 'postgres',
      migrate: () => migratePg(drizzlePg(pool), { migrationsFolder: MIGRATIONS }),
      ping: async () => {
        await pool.query('select 1')
      },
      close: () => pool.end(),
    }
  }
  if (!opts.path.startsWith('memory://')) mkdirSync(opts.path, { recursive: true })
  const client = new PGlite(opts.path, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {})
  await client.waitReady
  const db = drizzlePglite(client, { schema }) as unknown as MetaDb
  return {
    db,
    kind: 'pglite',
    pglite: client,
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS }),
    ping: async () => {
      await client.query('select 1')
    },
    close: () => client.close(),
  }
}
