import pg from 'pg'

/** A PostgreSQL database of a test file's own, on the server of TEST_DATABASE_URL. */
export interface ScratchDatabase {
  name: string
  /** TEST_DATABASE_URL pointed at this database. */
  url: string
  /** Runs SQL as the admin connection (on TEST_DATABASE_URL's own database). */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>
  /** Drops the database, ending any connection still open to it, and closes the admin connection. */
  drop(): Promise<void>
}

/**
 * Its own database, because test files run in parallel and metadata.test.ts drops the schema of
 * TEST_DATABASE_URL's database. Named after the prefix and the process, made afresh.
 */
export async function scratchDatabase(baseUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}`
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name}`)
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return {
    name,
    url: url.href,
    query: (sql, params) => admin.query(sql, params),
    async drop() {
      // FORCE ends the test's leftover connections, but PostgreSQL refuses (42501) while an autovacuum
      // worker is busy in the database and the role may not signal it (.ci/run grants
      // pg_signal_backend): the worker is gone a moment later.
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
          break
        } catch (e) {
          if ((e as { code?: string }).code !== '42501' || attempt >= 40) throw e
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      await admin.end()
    },
  }
}
