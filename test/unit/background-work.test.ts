import { afterEach, describe, expect, it, vi } from 'vitest'
import { quietTimer } from '../../src/util/quiet-timer.js'
import { serialQueue } from '../../src/util/serial-queue.js'

// The two helpers behind the deferred catch-ups (fatigue rows, the sequence mirror): when they run,
// how often, and that a stopping process can cancel them and wait for the one running.
describe('quietTimer', () => {
  afterEach(() => vi.useRealTimers())

  it('runs once after the calls go quiet, with the last argument, at most maxWait after the first', async () => {
    vi.useFakeTimers()
    const runs: number[] = []
    const schedule = quietTimer<object, number>(async (n) => void runs.push(n), 1_000, 5_000)
    const store = {}
    // Calls every 600 ms: never quiet for 1 s, so the 5 s ceiling decides.
    for (let i = 1; i <= 10; i++) {
      schedule(store, i)
      await vi.advanceTimersByTimeAsync(600)
      if (runs.length) break
    }
    expect(runs).toEqual([9])
    // Two calls then quiet: one run, 1 s after the second.
    schedule(store, 20)
    await vi.advanceTimersByTimeAsync(500)
    schedule(store, 21)
    await vi.advanceTimersByTimeAsync(999)
    expect(runs).toEqual([9])
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toEqual([9, 21])
  })

  it('keeps one timer per key, and cancel drops it without running', async () => {
    vi.useFakeTimers()
    const runs: string[] = []
    const schedule = quietTimer<object, string>(async (s) => void runs.push(s), 1_000, 5_000)
    const a = {}
    const b = {}
    schedule(a, 'a')
    schedule(b, 'b')
    schedule.cancel(a)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(runs).toEqual(['b'])
  })

  it('drops a failed run’s error (the work stays queued for the next run)', async () => {
    vi.useFakeTimers()
    let calls = 0
    const schedule = quietTimer<object, null>(async () => {
      calls++
      throw new Error('store down')
    }, 10, 100)
    schedule({}, null)
    await vi.advanceTimersByTimeAsync(20)
    expect(calls).toBe(1)
  })
})

describe('serialQueue', () => {
  it('runs work on one key in call order, never two at once, past a failure; other keys do not wait', async () => {
    const q = serialQueue<object>()
    const k = {}
    const other = {}
    const log: string[] = []
    let running = 0
    const job = (name: string, ms: number, fail = false) => async () => {
      running++
      expect(running).toBe(1)
      log.push(`start ${name}`)
      await new Promise((r) => setTimeout(r, ms))
      log.push(`end ${name}`)
      running--
      if (fail) throw new Error(name)
      return name
    }
    const first = q.run(k, job('1', 30))
    const second = q.run(k, job('2', 5, true))
    const third = q.run(k, job('3', 1))
    const elsewhere = q.run(other, async () => (log.push('other'), 'o'))
    await expect(first).resolves.toBe('1')
    await expect(second).rejects.toThrow('2')
    await expect(third).resolves.toBe('3')
    await elsewhere
    expect(log.filter((x) => x !== 'other')).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'])
    // The other key's work did not wait for the 30 ms job.
    expect(log.indexOf('other')).toBeLessThan(log.indexOf('end 1'))
  })

  it('idle waits for everything queued so far, and resolves even when it failed', async () => {
    const q = serialQueue<object>()
    const k = {}
    let done = false
    void q.run(k, async () => {
      await new Promise((r) => setTimeout(r, 20))
      done = true
      throw new Error('x')
    }).catch(() => undefined)
    await q.idle(k)
    expect(done).toBe(true)
    await q.idle({})
  })
})
