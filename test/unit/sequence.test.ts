import { describe, expect, it } from 'vitest'
import { EventSequence, seqBase } from '../../src/events/sequence.js'

describe('EventSequence', () => {
  it('never lets a reader pass a batch still in flight', () => {
    let now = 1000
    const seq = new EventSequence(1, () => now)
    expect(seq.committed).toBe(seqBase(1) - 1)
    const a = seq.reserve()
    const b = seq.reserve()
    expect(b).toBe(a + 1)
    now = 2000
    seq.commit(b)
    // b is stored but a is not: a reader stops before a.
    expect(seq.committed).toBe(seqBase(a) - 1)
    now = 3000
    seq.commit(a)
    expect(seq.committed).toBe(seqBase(b + 1) - 1)
    // What was committed at a past time: the settle watermark of a pass whose window ended then.
    expect(seq.committedAt(2500)).toBe(seqBase(a) - 1)
    expect(seq.committedAt(3000)).toBe(seqBase(b + 1) - 1)
  })

  it('a recorded batch keeps its number on replay and moves the next one past it', () => {
    const seq = new EventSequence(1)
    seq.reserve(7)
    expect(seq.committed).toBe(seqBase(7) - 1)
    expect(seq.reserve()).toBe(8)
    seq.commit(8)
    expect(seq.committed).toBe(seqBase(7) - 1)
    seq.commit(7)
    expect(seq.committed).toBe(seqBase(9) - 1)
    // A commit of a batch not in flight changes nothing.
    seq.commit(3)
    expect(seq.committed).toBe(seqBase(9) - 1)
  })

  it('before any sample, nothing is settled', () => {
    const seq = new EventSequence(1, () => 5000)
    expect(seq.committedAt(4000)).toBe(-1)
  })
})
