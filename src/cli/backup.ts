/**
 * npm run backup -- <dir> [--url http://host:port]
 *
 * Asks the running server for a backup (POST /v1/admin/backup with TRACKER_ADMIN_KEY): with the
 * embedded engines only the server's process can read its stores, and it copies them while it
 * keeps serving. The server writes under DATA_DIR/backups; the result is then moved to <dir>
 * (which must not exist yet) when this runs on the same machine.
 */
import { cpSync, existsSync, renameSync, rmSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parseConfig } from '../config.js'
import { BACKUP_NAME } from '../services/backup.js'

function fail(message: string): never {
  process.stderr.write(`backup: ${message}\n`)
  process.exit(2)
}

const { values, positionals } = parseArgs({ options: { url: { type: 'string' } }, allowPositionals: true })
const target = positionals[0] ? resolve(positionals[0]) : fail('usage: npm run backup -- <dir> [--url http://host:port]')
if (existsSync(target)) fail(`${target} exists already: give a new directory`)
const config = parseConfig()
if (!config.adminKey) fail('TRACKER_ADMIN_KEY is not set: the backup is taken by the running server, through its admin API')
const base = (values.url ?? process.env.PUBLIC_BASE_URL ?? `http://localhost:${config.port}`).replace(/\/+$/, '')
const name = BACKUP_NAME.test(basename(target)) ? `${basename(target)}-${Date.now()}` : `sillage-${Date.now()}`

const res = await fetch(`${base}/v1/admin/backup`, {
  method: 'POST',
  headers: { authorization: `Bearer ${config.adminKey}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name }),
}).catch((err: Error) => {
  // fetch's own message is "fetch failed"; the reason (refused, reset, timed out) is its cause.
  const cause = (err.cause as Error | undefined)?.message
  return fail(`cannot reach ${base}: ${err.message}${cause ? ` (${cause})` : ''} (is the server running? it takes the backup)`)
})
const body = (await res.json()) as { path: string } & Record<string, unknown>
if (!res.ok) fail(`${res.status} ${JSON.stringify(body)}`)

if (existsSync(body.path)) {
  try {
    renameSync(body.path, target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    cpSync(body.path, target, { recursive: true })
    rmSync(body.path, { recursive: true, force: true })
  }
  process.stdout.write(JSON.stringify({ ...body, path: target }, null, 2) + '\n')
} else {
  // The server runs elsewhere (another machine or container): the backup stays on its side.
  process.stdout.write(JSON.stringify(body, null, 2) + '\n')
  process.stderr.write(`backup: written on the server at ${body.path} (not reachable from here; copy it from there)\n`)
}
