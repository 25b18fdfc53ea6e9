/**
 * Recomputes the class of stored events with the current rules (after a rules change, or
 * after `npm run classify:refresh`).
 *
 *   npm run reclassify -- --from 2026-11-01T00:00:00Z --to 2026-11-23T00:00:00Z [--campaign spring]
 *
 * By default it asks the running server (POST /v1/admin/reclassify at --url, else
 * PUBLIC_BASE_URL, else http://localhost:$PORT) with TRACKER_ADMIN_KEY: with the embedded
 * engines only the server's process may open the data directory. `--direct` opens the stores
 * from the same environment as the server instead (server stopped, or ClickHouse and
 * PostgreSQL reached over the network).
 */
import { parseArgs } from 'node:util'
import { reclassify } from '../src/classification/reclassify.js'
import { parseConfig } from '../src/config.js'
import { createEventStore } from '../src/store/clickhouse.js'
import { migrateClickHouse } from '../src/store/clickhouse-migrate.js'
import { createMetaStore } from '../src/store/meta.js'

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    campaign: { type: 'string' },
    url: { type: 'string' },
    direct: { type: 'boolean', default: false },
  },
})

function fail(message: string): never {
  console.error(`reclassify: ${message}`)
  process.exit(2)
}

const from = values.from ? Date.parse(values.from) : NaN
const to = values.to ? Date.parse(values.to) : NaN
if (Number.isNaN(from)) fail('--from <ISO-8601 instant> is required')
if (Number.isNaN(to)) fail('--to <ISO-8601 instant> is required')
if (from > to) fail('--from is after --to')

const config = parseConfig()

async function viaServer(): Promise<unknown> {
  if (!config.adminKey) fail('TRACKER_ADMIN_KEY is not set (or use --direct)')
  const base = (values.url ?? process.env.PUBLIC_BASE_URL ?? `http://localhost:${config.port}`).replace(/\/+$/, '')
  const res = await fetch(`${base}/v1/admin/reclassify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...(values.campaign ? { campaignId: values.campaign } : {}) }),
  }).catch((err: Error) => fail(`cannot reach ${base}: ${err.message} (is the server running? or use --direct)`))
  const body = (await res.json()) as unknown
  if (!res.ok) fail(`${res.status} ${JSON.stringify(body)}`)
  return body
}

async function direct(): Promise<unknown> {
  const events = createEventStore({ url: config.clickhouse.url, user: config.clickhouse.user, password: config.clickhouse.password, database: config.clickhouse.database, path: config.clickhouse.path })
  const meta = await createMetaStore({ url: config.databaseUrl, path: config.metaPath })
  try {
    await meta.migrate()
    await migrateClickHouse(events)
    return await reclassify({ events, meta, clock: Date.now }, { from, to, campaignId: values.campaign })
  } finally {
    await meta.close()
    await events.close()
  }
}

const result = values.direct ? await direct() : await viaServer()
console.log(JSON.stringify(result, null, 2))
