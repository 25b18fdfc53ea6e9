/**
 * The funnel's catch-up of conversions (migration 3800) on the data bench/sequences.ts built: two reads
 * with nothing new, then N conversions stored through POST /v1/conversions (recipients among the bench's
 * entries, an hour ago: they add to the data), a read that applies them, and a read with nothing new.
 * CPU ms is this process's (the embedded engine runs in it).
 *   DATA_DIR=/work/benchdata/sequences N=1000 npx tsx bench/sequences-conversions-catchup.ts
 */
import { sequenceFunnel } from '../src/metrics/sequence-funnel.js'
import { getSequence } from '../src/services/sequences.js'
import { BENCH_KEY, startBenchServer } from './lib/bench-server.js'
const b = await startBenchServer('sequences')
const seq = await getSequence(b.deps, 'bench-seq')
const N = Number(process.env.N ?? 1000)
const read = async (label: string) => {
  const c0 = process.cpuUsage(); const t0 = performance.now()
  const f = await sequenceFunnel(b.deps, seq, { traffic: 'human', cohort: 'week' })
  const c = process.cpuUsage(c0)
  console.log(label.padEnd(40), 'wall', (performance.now() - t0).toFixed(0), 'cpu', ((c.user + c.system) / 1000).toFixed(0), 'converted', f.converted)
}
await read('read (nothing new)')
await read('read (nothing new)')
const tag = Date.now().toString(36)
const at = new Date(Date.now() - 3600_000).toISOString()
for (let i = 0; i < N; i++) {
  const r = await fetch(`${b.base}/v1/conversions`, { method: 'POST', headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ orderId: `c-${tag}-${i}`, recipientId: `r${(i * 7919) % 1_800_000}`, amount: '5.00', currency: 'EUR', at }) })
  if (r.status !== 201) throw new Error(`${r.status} ${await r.text()}`)
}
const target = b.deps.sequence.committed
for (let k = 0; k < 100 && b.deps.sequence.committed === target; k++) await new Promise((r) => setTimeout(r, 100))
await new Promise((r) => setTimeout(r, 2000))
await read(`read after ${N} new conversions`)
await read('read (nothing new)')
await b.stop(); process.exit(0)
