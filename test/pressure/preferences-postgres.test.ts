import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asksForFewer, createRule, deleteRule, getPreferences, listRules, preferencesAmong, preferenceStats, setPreferences } from '../../src/services/pressure.js'
import { createMetaStore, type MetaStore } from '../../src/store/meta.js'
import { scratchDatabase, type ScratchDatabase } from '../support/postgres.js'

const PG_URL = process.env.TEST_DATABASE_URL

// The metadata side of pressure on PostgreSQL itself (the other tests run on PGlite): the array
// parameter of the preferences lookup, the row lock of a change, the rules' checks.
describe.skipIf(!PG_URL)('pressure metadata on PostgreSQL', () => {
  let db: ScratchDatabase
  let meta: MetaStore
  const deps = () => ({ meta, clock: () => Date.parse('2026-11-01T00:00:00Z') })

  beforeAll(async () => {
    db = await scratchDatabase(PG_URL!, 'sillage_pressure')
    meta = await createMetaStore({ url: db.url, path: '' })
    await meta.migrate()
  })
  afterAll(async () => {
    await meta?.close()
    await db?.drop()
  })

  it('stores preferences, finds them among many ids, records changes once, counts readers who chose fewer', async () => {
    await setPreferences(deps(), 'ann', { categories: { promotion: false }, maxPerWindow: null }, { source: 'reader', campaignId: 'c1' })
    await setPreferences(deps(), 'ann', { categories: { promotion: false }, maxPerWindow: null }, { source: 'reader', campaignId: 'c1' })
    await setPreferences(deps(), 'bob', { categories: {}, maxPerWindow: { max: 1, windowDays: 7 } }, { source: 'api' })
    const ids = [...Array.from({ length: 20_000 }, (_, i) => `x${i}`), 'ann', 'bob']
    const found = await preferencesAmong(deps(), ids)
    expect([...found.keys()].sort()).toEqual(['ann', 'bob'])
    expect(found.get('bob')!.maxPerWindow).toEqual({ max: 1, windowDays: 7 })
    expect((await getPreferences(deps(), 'nobody')).updatedAt).toBeNull()
    expect(await preferenceStats(deps(), ['c1'])).toEqual([{ campaignId: 'c1', readersChangedPreferences: 1, readersChoseFewer: 1, readersUnsubscribed: 0 }])
    expect(asksForFewer(found.get('ann')!, { categories: { promotion: true }, maxPerWindow: null })).toBe(false)
  })

  it("sees preferences written through another store handle (another process) after its bitmap was filled", async () => {
    const other = await createMetaStore({ url: db.url, path: '' })
    try {
      const ids = Array.from({ length: 3_000 }, (_, i) => `y${i}`)
      expect((await preferencesAmong(deps(), ids)).size).toBe(0)
      await setPreferences({ meta: other, clock: deps().clock }, 'y7', { categories: { promotion: false }, maxPerWindow: null }, { source: 'reader' })
      expect((await preferencesAmong(deps(), ids)).get('y7')!.categories).toEqual({ promotion: false })
      await setPreferences({ meta: other, clock: deps().clock }, 'y7', { categories: {}, maxPerWindow: { max: 2, windowDays: 7 } }, { source: 'api' })
      expect((await preferencesAmong(deps(), ids)).get('y7')!.maxPerWindow).toEqual({ max: 2, windowDays: 7 })
    } finally {
      await other.close()
    }
  })

  it('keeps rules and refuses a non-positive cap in the database too', async () => {
    const r = await createRule(deps(), { max: 3, windowDays: 7, category: 'promotion' })
    expect((await listRules(deps())).map((x) => x.id)).toEqual([r.id])
    await expect(createRule(deps(), { max: 0, windowDays: 7 })).rejects.toThrow()
    await deleteRule(deps(), r.id)
    expect(await listRules(deps())).toEqual([])
  })
})
