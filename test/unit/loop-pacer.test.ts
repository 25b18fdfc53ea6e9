import { describe, expect, it } from 'vitest'
import { LoopPacer } from '../../src/outbox/pace.js'

/** Keeps the event loop busy (a handler running) for `ms`. */
function spin(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    /* busy */
  }
}

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('LoopPacer', () => {
  it('rests delivery only while the edge answers requests on a full loop, for (1 - share) / share of the slice, bounded', async () => {
    let served = 0
    const pacer = new LoopPacer(() => served, { share: 0.2, busyUtilization: 0.8, windowMs: 50, maxRestMs: 500 })

    // A full loop with the edge idle: delivery alone, no rest.
    let slice = performance.now()
    spin(70)
    expect(pacer.restAfter(slice)).toBe(0)

    // The edge answering on a full loop: a slice of 60 ms rests 4 × 60 ms.
    served += 100
    slice = performance.now()
    spin(60)
    const rest = pacer.restAfter(slice)
    expect(rest).toBeGreaterThanOrEqual(240)
    expect(rest).toBeLessThanOrEqual(500)

    // A long slice rests at most maxRestMs: delivery always resumes.
    slice = performance.now() - 1000
    expect(pacer.restAfter(slice)).toBe(500)

    // The edge answering on a loop with room left (mostly idle): no rest.
    served += 100
    await idle(80)
    expect(pacer.restAfter(performance.now())).toBe(0)
  })
})
