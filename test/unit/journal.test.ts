import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Journal, listSegments, segmentName } from '../../src/events/journal.js'
import { createLogger } from '../../src/logger.js'

const dir = mkdtempSync(join(tmpdir(), 'sillage-journal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('Journal', () => {
  it('answers an append after close at once and counts it lost, instead of leaving the response hanging', async () => {
    const j = new Journal({ dir: join(dir, 'closed'), fsyncIntervalMs: 0, maxBytes: 1 << 20, log: createLogger('silent') })
    await j.appendAsync('a\n')
    j.close()
    let answered = false
    j.append('b\n', () => (answered = true))
    expect(answered).toBe(true)
    expect(j.stats).toMatchObject({ appended: 1, lost: 1 })
    expect(j.stats.lastError).toMatch(/closed/)
    const [seg] = listSegments(join(dir, 'closed'))
    expect(readFileSync(join(dir, 'closed', segmentName(seg!)), 'utf8')).toBe('a\n')
  })

  it("reports the most recent loss's message across a cluster's journals", () => {
    const j = new Journal({ dir: join(dir, 'peers'), fsyncIntervalMs: 0, maxBytes: 1 << 20, log: createLogger('silent') })
    const peer = (lost: number, at: number, message: string) => ({ stats: { appended: 10, lost, writeErrors: 0, lastError: message, bytesPending: 0 }, lastLossAt: at })
    j.reportPeer('w1', peer(1, 2_000, 'newest'))
    j.reportPeer('w2', peer(1, 1_000, 'older'))
    expect(j.stats).toMatchObject({ appended: 20, lost: 2, lastError: 'newest' })
    j.close()
  })
})
