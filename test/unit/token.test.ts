import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadOrCreateSecret, TokenCodec } from '../../src/tracking/token.js'

describe('TokenCodec', () => {
  const codec = new TokenCodec(['a-secret-of-sufficient-length'])

  it('round-trips the recipient id for its campaign only', () => {
    const t = codec.sign('spring', 'jean.dupond@example.fr')
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/)
    expect(codec.verify('spring', t)).toBe('jean.dupond@example.fr')
    expect(codec.verify('autumn', t)).toBeNull()
  })

  it('rejects damaged, forged and non-canonical tokens', () => {
    const t = codec.sign('spring', 'r42')
    const [id, mac] = t.split('.') as [string, string]
    expect(codec.verify('spring', `${id}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeNull()
    expect(codec.verify('spring', `${Buffer.from('r43').toString('base64url')}.${mac}`)).toBeNull()
    expect(codec.verify('spring', `${id}=.${mac}`)).toBeNull()
    expect(codec.verify('spring', '')).toBeNull()
    expect(codec.verify('spring', '.')).toBeNull()
    expect(codec.verify('spring', 'x'.repeat(5000))).toBeNull()
    expect(new TokenCodec(['another-secret-entirely-000']).verify('spring', t)).toBeNull()
  })

  it('keeps verifying tokens of an old secret after a rotation', () => {
    const old = codec.sign('spring', 'r1')
    const rotated = new TokenCodec(['the-new-secret-0123456789', 'a-secret-of-sufficient-length'])
    expect(rotated.verify('spring', old)).toBe('r1')
    expect(rotated.sign('spring', 'r1')).not.toBe(old)
  })

  it('generates a secret once and keeps it private under DATA_DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sillage-secret-'))
    const first = loadOrCreateSecret(dir)
    expect(first.length).toBeGreaterThanOrEqual(32)
    expect(loadOrCreateSecret(dir)).toBe(first)
    expect(readFileSync(join(dir, 'tracker-secret'), 'utf8').trim()).toBe(first)
    expect(statSync(join(dir, 'tracker-secret')).mode & 0o777).toBe(0o600)
    expect(loadOrCreateSecret(dir, 'configured-secret-value')).toBe('configured-secret-value')
  })
})
