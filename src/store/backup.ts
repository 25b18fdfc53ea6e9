import { queryRows, type EventStore } from './clickhouse.js'

/** A path as a ClickHouse string literal: BACKUP and RESTORE take no query parameters. */
function literal(path: string): string {
  return `'${path.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

export interface ClickHouseBackup {
  id: string
  files: number
  bytes: number
}

/**
 * BACKUP DATABASE to a directory (the engine's File backup, one consistent snapshot of each
 * table's parts). ASYNC, then polled: the backup runs on the engine's own threads and the
 * single query slot of chDB stays free for the API and the writer meanwhile.
 */
export async function backupClickHouse(store: EventStore, dest: string, pollMs = 100): Promise<ClickHouseBackup> {
  const [started] = await queryRows<{ id: string }>(store, `BACKUP DATABASE ${store.db} TO File(${literal(dest)}) ASYNC`)
  const id = started!.id
  for (;;) {
    const [row] = await queryRows<{ status: string; error: string; num_files: number; total_size: number }>(
      store,
      'SELECT status, error, num_files, total_size FROM system.backups WHERE id = {id:String}',
      { id },
    )
    if (row?.status === 'BACKUP_CREATED') return { id, files: row.num_files, bytes: row.total_size }
    if (!row || row.status !== 'CREATING_BACKUP') throw new Error(`ClickHouse backup ${id} ended ${row?.status ?? 'unseen'}: ${row?.error ?? ''}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** RESTORE of a backup made by backupClickHouse, into `store.db` (which must not exist yet). */
export async function restoreClickHouse(store: EventStore, src: string, backedUpDb: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(backedUpDb)) throw new Error(`invalid database name in the backup: ${backedUpDb}`)
  await store.client.query({ query: `RESTORE DATABASE ${backedUpDb} AS ${store.db} FROM File(${literal(src)})`, format: 'JSONEachRow' }).then((r) => r.json())
}
