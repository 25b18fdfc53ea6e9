import { createHash, timingSafeEqual } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import type { AppDeps } from '../deps.js'
import { apiKeys, type ApiKeyRole } from '../store/schema.js'

/**
 * What the API's bearer check and the dashboard's sign-in and sessions share about API keys: how a
 * key is hashed, which keys are valid (briefly cached), and which were revoked by this process.
 * Below both, so neither reaches into the other or into the apiKeys table.
 */

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/**
 * How long a key's validity and role are remembered. A key revoked or downgraded by this process
 * is forgotten at once; by another instance, it is refused here at most this long after.
 */
export const API_KEY_CACHE_MS = 30_000

/** `admin` is the bootstrap key from the config; any other id is a key created through the API. */
export interface ApiKeyIdentity {
  id: string
  role: ApiKeyRole
}

const known = new Map<string, { identity: ApiKeyIdentity; until: number }>()
/**
 * Bumped by every forgetApiKey: a lookup that read the row before a revocation and finishes after
 * it must not put the old answer back in the cache for another API_KEY_CACHE_MS.
 */
let generation = 0

/**
 * The key's id and role, or null when it is not a valid key. Keys created through the API are
 * stored as a SHA-256 hash; valid ones are remembered briefly (API_KEY_CACHE_MS on the injected
 * clock) so a busy dashboard does not query the metadata store on every request.
 */
export async function verifyApiKey(deps: Pick<AppDeps, 'config' | 'meta' | 'clock'>, key: string): Promise<ApiKeyIdentity | null> {
  const hash = hashKey(key)
  const { config, meta } = deps
  if (config.adminKey) {
    const admin = Buffer.from(hashKey(config.adminKey), 'hex')
    if (timingSafeEqual(admin, Buffer.from(hash, 'hex'))) return { id: 'admin', role: 'admin' }
  }
  const cached = known.get(hash)
  if (cached && cached.until > deps.clock()) return cached.identity
  const seen = generation
  const [row] = await meta.db
    .select({ id: apiKeys.id, role: apiKeys.role })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hash), eq(apiKeys.revoked, false)))
    .limit(1)
  if (!row) {
    known.delete(hash)
    return null
  }
  if (seen === generation) {
    if (known.size > 10_000) known.clear()
    known.set(hash, { identity: row, until: deps.clock() + API_KEY_CACHE_MS })
  }
  return row
}

/** Drops a key from the cache (on revocation or a role change), so this process sees the change from the next request. */
export function forgetApiKey(hash: string): void {
  generation++
  known.delete(hash)
}

/** Keys revoked by this process: their dashboard sessions end at once rather than when a cache expires. Revocation is final. */
const revokedHere = new Set<string>()

export function forgetRevokedKeySessions(keyId: string): void {
  revokedHere.add(keyId)
}

export function revokedHereAlready(keyId: string): boolean {
  return revokedHere.has(keyId)
}

/** The stored hash of an unrevoked key created through the API, or null when there is none. */
export async function activeKeyHash(deps: Pick<AppDeps, 'meta'>, keyId: string): Promise<string | null> {
  const [row] = await deps.meta.db
    .select({ hash: apiKeys.hash })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.revoked, false)))
    .limit(1)
  return row?.hash ?? null
}
