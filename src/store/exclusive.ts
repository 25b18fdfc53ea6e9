import { sql } from 'drizzle-orm'
import type { MetaStore } from './meta.js'

/**
 * Runs `fn` while this instance holds a PostgreSQL advisory lock named `name`, so work that must
 * happen once for the whole deployment (ClickHouse migrations, the periodic mutations of the
 * classification pass) is done by one instance at a time however many share the databases.
 * The lock is a transaction's: it is released when `fn` ends, or by the server when the
 * instance dies, so a crashed holder never blocks the others. `wait: false` returns
 * `{ ran: false }` at once when another instance holds it. PGlite has one instance by
 * construction: `fn` just runs.
 */
export async function exclusive<T>(meta: MetaStore, name: string, fn: () => Promise<T>, opts: { wait: true }): Promise<T>
export async function exclusive<T>(meta: MetaStore, name: string, fn: () => Promise<T>, opts: { wait: false }): Promise<{ ran: true; value: T } | { ran: false }>
export async function exclusive<T>(meta: MetaStore, name: string, fn: () => Promise<T>, opts: { wait: boolean }): Promise<unknown> {
  if (meta.kind !== 'postgres') return opts.wait ? fn() : { ran: true, value: await fn() }
  const key = sql`hashtext(${'sillage:' + name})`
  return meta.db.transaction(async (tx) => {
    if (opts.wait) {
      await tx.execute(sql`select pg_advisory_xact_lock(${key})`)
      return fn()
    }
    const rows = (await tx.execute(sql`select pg_try_advisory_xact_lock(${key}) as got`)) as unknown as { rows: Array<{ got: boolean }> }
    if (!rows.rows[0]?.got) return { ran: false }
    return { ran: true, value: await fn() }
  })
}
