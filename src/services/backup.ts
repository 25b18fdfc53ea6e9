import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Config } from '../config.js'
import type { AppDeps } from '../deps.js'
import { backupClickHouse, restoreClickHouse } from '../store/backup.js'
import { createEventStore, queryRows } from '../store/clickhouse.js'
import { createMetaStore } from '../store/meta.js'
import { conflict, DomainError, invalid } from '../util/errors.js'

/** What a backup directory holds, written last as backup.json: its presence marks a complete backup. */
export interface BackupManifest {
  format: 1
  createdAt: string
  /** The ClickHouse database backed up (RESTORE puts it under the restoring server's name). */
  database: string
  clickhouse: { dir: 'clickhouse'; files: number; bytes: number }
  meta: { file: 'meta.tar.gz'; bytes: number }
  /** 'file': the generated secret is in the backup; 'environment': it came from TRACKER_SECRET, keep that. */
  secret: 'file' | 'environment'
}

export const BACKUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
const MANIFEST = 'backup.json'
const SECRET = 'tracker-secret'

type Deps = Pick<AppDeps, 'config' | 'events' | 'meta' | 'writer' | 'log' | 'clock'>

/** With a ClickHouse or PostgreSQL server, their own tools back them up: this copies the embedded engines only. */
function externalStores(config: Config): string[] {
  return [config.clickhouse.url ? 'ClickHouse (CLICKHOUSE_URL: its BACKUP statement or clickhouse-backup)' : '', config.databaseUrl ? 'PostgreSQL (DATABASE_URL: pg_dump)' : ''].filter(Boolean)
}

/**
 * A consistent copy of the embedded stores and the secret, taken by the server that holds them
 * (chDB binds its data directory to one process, PGlite is single-process: no other process can
 * read them while the server runs). The writer is flushed first, so every event acknowledged
 * before the call is in it. ClickHouse is copied first, then the metadata: every campaign and link
 * an event or send refers to is in the copy (the metadata may hold a few newer ones, harmless).
 */
export async function takeBackup(deps: Deps, name: string): Promise<BackupManifest & { path: string }> {
  const { config, events, meta } = deps
  const external = externalStores(config)
  if (external.length || !meta.pglite) throw conflict(`backups here cover the embedded engines only; back up ${external.join(' and ')} with the server's own tools`)
  if (!BACKUP_NAME.test(name)) throw invalid('body.name: letters, digits, ".", "_" and "-" only (at most 100), not starting with "." or "-"')
  const dir = join(config.backupsDir, name)
  if (existsSync(dir)) throw conflict(`a backup named ${name} exists already`)
  mkdirSync(dir, { recursive: true })
  try {
    try {
      await deps.writer.flush()
    } catch (err) {
      throw new DomainError('unavailable', `ClickHouse does not take the journaled events (${(err as Error).message}); try again when /readyz is ready`)
    }
    const createdAt = new Date(deps.clock()).toISOString()
    const ch = await backupClickHouse(events, join(dir, 'clickhouse'))
    const dump = Buffer.from(await (await meta.pglite.dumpDataDir('gzip')).arrayBuffer())
    writeFileSync(join(dir, 'meta.tar.gz'), dump)
    let secret: BackupManifest['secret'] = 'environment'
    if (!config.trackerSecret) {
      copyFileSync(join(config.dataDir, SECRET), join(dir, SECRET))
      chmodSync(join(dir, SECRET), 0o600)
      secret = 'file'
    }
    const manifest: BackupManifest = {
      format: 1,
      createdAt,
      database: events.db,
      clickhouse: { dir: 'clickhouse', files: ch.files, bytes: ch.bytes },
      meta: { file: 'meta.tar.gz', bytes: dump.length },
      secret,
    }
    writeFileSync(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
    deps.log.info('backup_created', { path: dir, clickhouseBytes: ch.bytes, metaBytes: dump.length })
    return { ...manifest, path: dir }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

export function readManifest(src: string): BackupManifest {
  let m: BackupManifest
  try {
    m = JSON.parse(readFileSync(join(src, MANIFEST), 'utf8')) as BackupManifest
  } catch (err) {
    throw invalid(`${src} is not a complete backup (no readable ${MANIFEST}: ${(err as Error).message})`)
  }
  if (m.format !== 1) throw invalid(`${src}: backup format ${String(m.format)} is not known to this version`)
  return m
}

const nonEmpty = (path: string) => existsSync(path) && readdirSync(path).length > 0

/**
 * Restores a backup into this configuration's data directory, which must hold no stores yet (the
 * server stopped, or never started there). The secret comes back with it, so the tokens in
 * e-mails already sent keep verifying. Returns what the restored stores hold.
 */
export async function restoreBackup(config: Config, from: string): Promise<{ events: number; sends: number; campaigns: number; secret: string }> {
  const src = resolve(from)
  const manifest = readManifest(src)
  const external = externalStores(config)
  if (external.length) throw conflict(`restore fills the embedded engines only; restore ${external.join(' and ')} with the server's own tools`)
  for (const path of [config.clickhouse.path, config.metaPath]) {
    if (nonEmpty(path)) throw conflict(`${path} is not empty: restore into an empty DATA_DIR (stop the server, move the old data aside)`)
  }
  const secretFile = join(config.dataDir, SECRET)
  if (manifest.secret === 'file') {
    const secret = readFileSync(join(src, SECRET), 'utf8')
    if (existsSync(secretFile) && readFileSync(secretFile, 'utf8') !== secret) throw conflict(`${secretFile} exists with another secret: restore into an empty DATA_DIR`)
    mkdirSync(config.dataDir, { recursive: true })
    writeFileSync(secretFile, secret, { mode: 0o600 })
  }
  const meta = await createMetaStore({ path: config.metaPath, loadDataDir: new Blob([readFileSync(join(src, manifest.meta.file))]) })
  const campaigns = Number((await meta.pglite!.query<{ n: string }>('SELECT count(*) AS n FROM campaigns')).rows[0]?.n ?? 0)
  await meta.close()
  const events = createEventStore({ database: config.clickhouse.database, path: config.clickhouse.path, backupsPath: src })
  await restoreClickHouse(events, join(src, manifest.clickhouse.dir), manifest.database)
  const count = async (table: string) => (await queryRows<{ n: number }>(events, `SELECT count() AS n FROM ${events.db}.${table}`))[0]!.n
  const secret = manifest.secret === 'file' ? `restored to ${secretFile}` : 'not in the backup: start the server with the TRACKER_SECRET it had'
  const counts = { events: await count('events'), sends: await count('sends'), campaigns, secret }
  await events.close()
  return counts
}
