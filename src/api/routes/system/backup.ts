import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { takeBackup } from '../../../services/backup.js'
import type { AppEnv } from '../../context.js'
import { ApiError, errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'

const Backup = z
  .object({
    path: z.string().openapi({ description: 'The backup directory, on the server (under DATA_DIR/backups)' }),
    format: z.literal(1),
    createdAt: z.string(),
    database: z.string(),
    clickhouse: z.object({ dir: z.literal('clickhouse'), files: z.number().int(), bytes: z.number().int() }),
    meta: z.object({ file: z.literal('meta.tar.gz'), bytes: z.number().int() }),
    secret: z.enum(['file', 'environment']).openapi({ description: "'environment': the secret is TRACKER_SECRET's and is not in the backup: keep it" }),
  })
  .openapi('Backup')

const route = createRoute({
  method: 'post',
  path: '/v1/admin/backup',
  operationId: 'createBackup',
  tags: ['admin'],
  summary: 'Back up the embedded stores while the server runs',
  description:
    'Flushes the journal into ClickHouse, then writes DATA_DIR/backups/<name>/: ClickHouse (BACKUP DATABASE, run by the engine in the background), the metadata (a PGlite dump), the generated secret, and backup.json last. `npm run backup -- <dir>` calls this and moves the result to <dir>; `npm run restore -- <dir>` restores it into an empty DATA_DIR. With CLICKHOUSE_URL or DATABASE_URL this answers 409: use those servers\' own backup tools. Admin key only.',
  security,
  request: {
    body: {
      content: { 'application/json': { schema: z.object({ name: z.string().optional().openapi({ example: 'sillage-2026-12-05T06-00-00Z', description: 'Default: sillage-<UTC time>' }) }).strict() } },
      required: false,
    },
  },
  responses: {
    200: { description: 'The backup, complete', content: { 'application/json': { schema: Backup } } },
    ...errorResponses(400, 401, 403, 409, 503),
  },
})

export function registerBackup(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    if (c.get('apiKeyRole') !== 'admin') throw new ApiError('forbidden', 'backups need an admin key (TRACKER_ADMIN_KEY or a key created with role "admin")')
    const deps = c.get('deps')
    const name = c.req.valid('json')?.name ?? `sillage-${new Date(deps.clock()).toISOString().slice(0, 19).replace(/:/g, '-')}Z`
    return c.json(await takeBackup(deps, name), 200)
  })
}
