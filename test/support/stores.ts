import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { createEventStore, type EventStore } from '../../src/store/clickhouse.js'
import { createMetaStore, type MetaStore } from '../../src/store/meta.js'

/** One chDB directory per test process (libchdb binds one per process); one database per call. */
export const CHDB_PATH = join(tmpdir(), `sillage-test-chdb-${process.pid}`)

let counter = 0

export function testEventStore(): EventStore {
  const database = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const url = process.env.CLICKHOUSE_TEST_URL
  return createEventStore({ url, database, path: CHDB_PATH })
}

/** A fresh metadata database: a clone of the migrated PGlite prepared by the global setup. */
export async function testMetaStore(): Promise<MetaStore> {
  const dump = new Blob([readFileSync(inject('metaDump'))])
  return createMetaStore({ path: 'memory://', loadDataDir: dump })
}
