/*
 * Every edge benchmark in turn, then a summary of the ratios.
 *
 *   npm run bench
 */
import { benchPixel } from './pixel.js'
import { benchRedirect } from './redirect.js'
import { log } from './lib/runner.js'

const results = [await benchRedirect(), await benchPixel()]
log('\nsummary (medians):')
for (const r of results) {
  log(
    `  ${r.name}: ${Math.round(r.subject.rps)} vs ${Math.round(r.baseline.rps)} req/s = ${r.ratio.toFixed(3)}×; p99 ${r.subject.p99} ms vs ${r.baseline.p99} ms; ` +
      `CPU ${r.subject.cpuUs.toFixed(1)} vs ${r.baseline.cpuUs.toFixed(1)} µs/req = ${r.cpuRatio.toFixed(3)}×`,
  )
}
