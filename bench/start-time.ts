/**
 * How long the bench server takes to start on a data set (DATA_DIR): a first start after a new migration
 * includes its backfill; a second start, without one, is the baseline to subtract.
 *   DATA_DIR=/work/benchdata/pressure npx tsx bench/start-time.ts
 */
import { startBenchServer } from './lib/bench-server.js'

if (!process.env.DATA_DIR) throw new Error('DATA_DIR: the data set to start on')
const t = performance.now()
const bench = await startBenchServer('start')
console.log(`start (migrations included) ${(performance.now() - t).toFixed(0)} ms`)
await bench.stop()
process.exit(0)
