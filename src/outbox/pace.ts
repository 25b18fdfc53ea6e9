import { performance, type EventLoopUtilization } from 'node:perf_hooks'

export interface PaceOptions {
  /** Part of the wall time delivery keeps while the edge is busy on a full loop. */
  share: number
  /** Event loop utilisation over a window from which the loop counts as full. */
  busyUtilization: number
  /** How often utilisation and the edge's count are re-read. */
  windowMs: number
  /** The longest rest after a slice: delivery always resumes within this. */
  maxRestMs: number
}

const DEFAULTS: PaceOptions = { share: 0.2, busyUtilization: 0.8, windowMs: 100, maxRestMs: 500 }

/**
 * Lets the edge keep the event loop when delivery shares it (one process: WORKERS=1 without
 * CLUSTER=1). The edge never waits on a delivery, but a drain at full speed fills the loop with
 * responses, signatures and metadata transactions, and each edge request waits behind them
 * (88 clicks/s, p99 2 s, in one sixth-session run). While the edge answered requests in the last
 * window and the loop was busy (utilisation from perf_hooks), delivery works in slices and rests
 * after each for (1 - share) / share of the slice's wall time, at most maxRestMs: it keeps about
 * `share` of the time and never stops. With the edge idle, or room left on the loop, no rest.
 * The cluster primary has no edge and runs without one.
 */
export class LoopPacer {
  private readonly opts: PaceOptions
  private mark: EventLoopUtilization = performance.eventLoopUtilization()
  private windowStart = performance.now()
  private served: number
  private contended = false

  constructor(private readonly edgeServed: () => number, opts: Partial<PaceOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts }
    this.served = edgeServed()
  }

  /** Whether the edge answered requests on a busy loop in the last full window. */
  get busy(): boolean {
    const now = performance.now()
    if (now - this.windowStart >= this.opts.windowMs) {
      const next = performance.eventLoopUtilization()
      const { utilization } = performance.eventLoopUtilization(next, this.mark)
      const served = this.edgeServed()
      this.contended = served > this.served && utilization >= this.opts.busyUtilization
      this.mark = next
      this.served = served
      this.windowStart = now
    }
    return this.contended
  }

  /** How long to rest after a slice of delivery that began at `sliceStart` (performance.now()); 0: go on. */
  restAfter(sliceStart: number): number {
    if (!this.busy) return 0
    const worked = performance.now() - sliceStart
    return Math.min(this.opts.maxRestMs, Math.ceil((worked * (1 - this.opts.share)) / this.opts.share))
  }
}
