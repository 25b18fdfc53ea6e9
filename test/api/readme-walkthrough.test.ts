import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSecondPass } from '../../src/classification/second-pass.js'
import { queryRows } from '../../src/store/clickhouse.js'
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js'

/**
 * The README's walk-through, its code block read from README.md and run by bash, every command
 * as written, against a live server: the documented forms must work, not only look plausible.
 */
const FIRST_LINE = 'K=change-me-to-something-long; B=http://localhost:8080; H="authorization: Bearer $K"; J="content-type: application/json"'

function walkThrough(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Walk-through\n'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('README.md: no sh block under "## Walk-through"')
  return block[1]!
}

let s: TestServer
let out = ''
beforeAll(async () => {
  s = await startTestServer({ env: { CLASSIFY_PASS_INTERVAL_MS: '0' } })
  const script = walkThrough()
  expect(script.split('\n')[0]).toBe(FIRST_LINE)
  // Only where the server is and its key change; every other character runs as printed.
  const run = script.replace(FIRST_LINE, FIRST_LINE.replace('change-me-to-something-long', ADMIN_KEY).replace('http://localhost:8080', s.url))
  const r = await promisify(execFile)('bash', ['-eu', '-c', run], { timeout: 30_000 })
  out = r.stdout
}, 60_000)
afterAll(async () => {
  await s.stop()
})

describe('README walk-through, run as written', () => {
  it('gets no error from any call, and the click is a 302 to the registered URL', () => {
    expect(out).not.toContain('"error"')
    expect(out).toMatch(/^HTTP\/1\.1 302 Found\r?$/m)
    expect(out).toMatch(/^location: https:\/\/shop\.example\/spring\r?$/im)
  })

  it('counts the open and the click, also after the second pass (a test send\'s instant click is a person\'s)', async () => {
    await s.flush()
    const pass = await runSecondPass(s.deps, { now: Date.now() + 60_000 })
    expect(pass.examined).toBe(1)
    expect(pass.updated).toBe(0)
    const stats = await s.api('GET', '/v1/campaigns/spring/stats')
    expect(stats.body).toMatchObject({ sent: 2, opens: { unique: 1 }, clicks: { unique: 1 } })
    const links = await s.api('GET', '/v1/campaigns/spring/links/stats')
    expect(links.body.links).toMatchObject([{ label: 'hero', position: 1, uniqueClickers: 1 }])
    const [click] = await queryRows<{ class: string }>(s.deps.events, `SELECT class FROM ${s.deps.events.db}.events WHERE type = 'click'`)
    expect(click).toEqual({ class: 'human' })
  })

  it('prints the follow-up list the last line asks for: dupond clicked hero and bought nothing', () => {
    // curl prints bodies without a final newline: the NDJSON row follows the previous body on its line.
    const rows = out.slice(out.indexOf('{"recipientId"')).trim().split('\n').map((l) => JSON.parse(l))
    expect(rows).toMatchObject([{ recipientId: 'dupond', clicked: true, clickedLinks: [expect.any(String)] }])
  })
})
