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
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    },
  }
}
