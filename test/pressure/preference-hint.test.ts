import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq, sql } from 'drizzle-orm'
import { preferencesAmong, setPreferences } from '../../src/services/pressure.js'
import type { MetaStore } from '../../src/store/meta.js'
import { recipientPreferences } from '../../src/store/schema.js'
import { testMetaStore } from '../support/stores.js'

// The bitmap of readers with stored preferences (src/store/preference-hint.ts) that spares a cap check
// the lookup of every recipient: whatever writes a row after the bitmap was filled is seen.
describe('preferences among many recipients, after the bitmap was filled', () => {
  let meta: MetaStore
  const deps = () => ({ meta, clock: () => Date.parse('2026-11-01T00:00:00Z') })
  const many = Array.from({ length: 5_000 }, (_, i) => `m${i}`)
  beforeAll(async () => {
    meta = await testMetaStore()
  })
  afterAll(async () => {
    await meta?.close()
  })

  it('finds a row written by any path since, an update, and a row erased then chosen again', async () => {
    expect((await preferencesAmong(deps(), many)).size).toBe(0)
    await setPreferences(deps(), 'm10', { categories: { promotion: false }, maxPerWindow: null }, { source: 'api' })
    // A row written by SQL of its own (another process, a restore): the database's trigger counts it.
    await meta.db.execute(sql`INSERT INTO recipient_preferences (recipient_id, categories, max_per_window, window_days) VALUES ('m20', '{}', 1, 7)`)
    let found = await preferencesAmong(deps(), many)
    expect([...found.keys()].sort()).toEqual(['m10', 'm20'])
    expect(found.get('m20')!.maxPerWindow).toEqual({ max: 1, windowDays: 7 })

    await setPreferences(deps(), 'm10', { categories: { promotion: true }, maxPerWindow: null }, { source: 'api' })
    await meta.db.delete(recipientPreferences).where(eq(recipientPreferences.recipientId, 'm20'))
    found = await preferencesAmong(deps(), many)
    expect(found.get('m10')!.categories).toEqual({ promotion: true })
    expect(found.has('m20')).toBe(false)
    await setPreferences(deps(), 'm20', { categories: { newsletter: false }, maxPerWindow: null }, { source: 'reader' })
    expect((await preferencesAmong(deps(), many)).get('m20')!.categories).toEqual({ newsletter: false })
  })
})
