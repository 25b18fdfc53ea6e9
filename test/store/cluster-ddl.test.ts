import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { renderStatement, type DdlTarget } from '../../src/store/clickhouse-ddl.js'
import { splitStatements } from '../../src/store/clickhouse-migrate.js'

const DIR = fileURLToPath(new URL('../../migrations/clickhouse/', import.meta.url))
const GOLDEN = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url))
const files = readdirSync(DIR).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()

/** Every statement of every migration, rendered for `target`, as the runner would send it. */
function render(target: DdlTarget): string[] {
  return files.flatMap((file) =>
    splitStatements(readFileSync(DIR + file, 'utf8').replaceAll('{db}', 'sillage')).map((s) => `-- ${file}\n${renderStatement(s, target)};`),
  )
}

const MODES: Array<[string, DdlTarget]> = [
  ['clickhouse-cluster.sql', { cluster: 'events_cluster' }],
  ['clickhouse-replicated-database.sql', { cluster: 'events_cluster', replicatedDatabase: true }],
]

describe('ClickHouse DDL for a cluster of one shard and N replicas', () => {
  // The golden files are the reviewed SQL a cluster receives; regenerate with UPDATE_GOLDEN=1 after adding a migration.
  for (const [golden, target] of MODES) {
    it(`matches ${golden}`, () => {
      const text = render(target).join('\n\n') + '\n'
      if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN(golden), text)
      expect(text).toBe(readFileSync(GOLDEN(golden), 'utf8'))
    })
  }

  it('leaves single-node SQL exactly as written', () => {
    for (const file of files) {
      for (const s of splitStatements(readFileSync(DIR + file, 'utf8'))) expect(renderStatement(s, {})).toBe(s)
    }
  })

  it('replicates every table, sends schema changes ON CLUSTER and data changes once', () => {
    for (const statement of render({ cluster: 'events_cluster' })) {
      const sql = statement.replace(/^--.*\n/, '')
      if (/^CREATE TABLE/i.test(sql)) {
        expect(sql).toMatch(/ON CLUSTER 'events_cluster'/)
        expect(sql).toMatch(/ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/sillage\/\w+', '\{replica\}'/)
        expect(sql).not.toMatch(/non_replicated_deduplication_window/)
        // Replicas must store identical rows: no column computed by the server at insert.
        expect(sql).not.toMatch(/DEFAULT\s+now/i)
      }
      if (/^ALTER TABLE \S+ (MATERIALIZE|UPDATE|DELETE)/i.test(sql)) expect(sql).not.toMatch(/ON CLUSTER/)
      if (/^ALTER TABLE \S+ (ADD|DROP|MODIFY)/i.test(sql)) expect(sql).toMatch(/ON CLUSTER 'events_cluster'/)
    }
  })

  it('in a Replicated database: no ON CLUSTER, engines without arguments but their own', () => {
    expect(renderStatement('CREATE TABLE IF NOT EXISTS d.sends (x String) ENGINE = ReplacingMergeTree(sent_at) ORDER BY x', { cluster: 'c', replicatedDatabase: true })).toBe(
      'CREATE TABLE IF NOT EXISTS d.sends (x String) ENGINE = ReplicatedReplacingMergeTree(sent_at) ORDER BY x',
    )
    expect(renderStatement('ALTER TABLE d.events ADD INDEX IF NOT EXISTS i x TYPE minmax', { cluster: 'c', replicatedDatabase: true })).not.toMatch(/ON CLUSTER/)
  })

  it('quotes the cluster name as a literal', () => {
    expect(renderStatement("CREATE DATABASE IF NOT EXISTS d", { cluster: "a'b" })).toBe("CREATE DATABASE IF NOT EXISTS d ON CLUSTER 'a\\'b'")
  })
})
