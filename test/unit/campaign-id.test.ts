import { describe, expect, it } from 'vitest'
import { CAMPAIGN_ID_PATTERN, CampaignIdSchema } from '../../src/api/schemas.js'

describe('campaign id', () => {
  it('accepts 1-64 letters, digits, _ and -, and nothing else', () => {
    for (const ok of ['a', 'spring-sale', 'A_1-b', 'x'.repeat(64)]) {
      expect(CAMPAIGN_ID_PATTERN.test(ok)).toBe(true)
      expect(CampaignIdSchema.safeParse(ok).success).toBe(true)
    }
    for (const bad of ['', 'x'.repeat(65), 'a b', 'a.b', 'a/b', 'é', 'a\u0000']) {
      expect(CAMPAIGN_ID_PATTERN.test(bad)).toBe(false)
      const r = CampaignIdSchema.safeParse(bad)
      expect(r.success).toBe(false)
      expect(r.error?.issues[0]?.message).toBe('must be 1-64 letters, digits, _ or -')
    }
  })
})
