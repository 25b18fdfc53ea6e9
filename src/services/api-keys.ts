import { randomBytes } from 'node:crypto'
import { asc, eq, sql } from 'drizzle-orm'
import { nanoid } from 'nanoid'
import type { AppDeps } from '../deps.js'
import { notFound } from '../util/errors.js'
import { forgetApiKey, forgetRevokedKeySessions, hashKey } from './auth-keys.js'
import { apiKeys, type ApiKeyRole } from '../store/schema.js'

type Deps = Pick<AppDeps, 'meta'>

/** What may be shown of a key after its creation: never the key, never its hash. */
export interface ApiKeyInfo {
  id: string
  name: string
  prefix: string
  role: ApiKeyRole
  revoked: boolean
  createdAt: Date
}

const info = { id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, role: apiKeys.role, revoked: apiKeys.revoked, createdAt: apiKeys.createdAt }

/** A new key: returned once in clear, stored as its SHA-256. */
export async function createApiKey(deps: Deps, name: string, role: ApiKeyRole = 'member'): Promise<ApiKeyInfo & { key: string }> {
  const key = 'sk_' + randomBytes(24).toString('base64url')
  const [row] = await deps.meta.db.insert(apiKeys).values({ id: nanoid(12), name, hash: hashKey(key), prefix: key.slice(0, 7), role }).returning(info)
  return { ...row!, key }
}

export async function listApiKeys(deps: Deps, opts: { limit: number; offset: number }): Promise<{ rows: ApiKeyInfo[]; total: number }> {
  const [rows, [count]] = await Promise.all([
    deps.meta.db.select(info).from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id)).limit(opts.limit).offset(opts.offset),
    deps.meta.db.select({ n: sql<number>`count(*)::int` }).from(apiKeys),
  ])
  return { rows, total: Number(count?.n ?? 0) }
}

/**
 * Marks the key revoked (the row stays, for the audit trail) and drops it from this process's
 * caches, so its very next request is refused here. Revoking a revoked key changes nothing.
 */
export async function revokeApiKey(deps: Deps, id: string): Promise<ApiKeyInfo> {
  const [row] = await deps.meta.db.update(apiKeys).set({ revoked: true }).where(eq(apiKeys.id, id)).returning({ ...info, hash: apiKeys.hash })
  if (!row) throw notFound(`API key ${id} not found`)
  forgetApiKey(row.hash)
  forgetRevokedKeySessions(row.id)
  const { hash: _hash, ...rest } = row
  return rest
}

/** Gives a key another role; this process applies it from the key's next request (others: within API_KEY_CACHE_MS). */
export async function setApiKeyRole(deps: Deps, id: string, role: ApiKeyRole): Promise<ApiKeyInfo> {
  const [row] = await deps.meta.db.update(apiKeys).set({ role }).where(eq(apiKeys.id, id)).returning({ ...info, hash: apiKeys.hash })
  if (!row) throw notFound(`API key ${id} not found`)
  forgetApiKey(row.hash)
  const { hash: _hash, ...rest } = row
  return rest
}

export function toApiKeyResponse(k: ApiKeyInfo) {
  return { id: k.id, name: k.name, prefix: k.prefix, role: k.role, revoked: k.revoked, createdAt: k.createdAt.toISOString() }
}
