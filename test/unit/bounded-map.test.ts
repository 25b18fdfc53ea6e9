import { describe, expect, it } from 'vitest'
import { BoundedMap } from '../../src/util/bounded-map.js'

describe('BoundedMap (the edge caches: tokens, addresses, user agents)', () => {
  it('never holds more than its capacity', () => {
    const m = new BoundedMap<number>(100)
    for (let i = 0; i < 10_000; i++) m.set('k' + i, i)
    expect(m.size).toBeLessThanOrEqual(100)
    expect(m.get('k9999')).toBe(9999)
    expect(m.get('k0')).toBeUndefined()
  })

  it('keeps an entry that is used while a stream of new keys goes through, and forgets one that is not', () => {
    const m = new BoundedMap<string>(100)
    m.set('hot', 'h')
    m.set('cold', 'c')
    for (let i = 0; i < 5000; i++) {
      m.set('new' + i, 'x')
      if (i % 20 === 0) expect(m.get('hot')).toBe('h')
    }
    expect(m.get('hot')).toBe('h')
    expect(m.get('cold')).toBeUndefined()
    expect(m.size).toBeLessThanOrEqual(100)
  })

  it('replaces a value in place and empties on clear', () => {
    const m = new BoundedMap<number>(4)
    m.set('a', 1)
    m.set('b', 2)
    m.set('c', 3)
    m.set('a', 10)
    expect(m.get('a')).toBe(10)
    expect(m.size).toBeLessThanOrEqual(4)
    m.clear()
    expect(m.size).toBe(0)
    expect(m.get('a')).toBeUndefined()
  })
})
