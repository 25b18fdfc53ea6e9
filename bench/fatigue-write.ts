/**
 * The write side of the fatigue curve's outcome bits (recipient_send_outcomes, migration 3600), on the
 * data bench/pressure.ts built (DATA_DIR): the rows of a sends call's 10,000 recipients recomputed (what
 * POST /sends added after its insert until the tenth session's second pass), the queue insert a sends call
 * now pays and the catch-up that does them after the answer, and the catch-up before a read after 10,000 recipients opened
 * (10,000 human opens stored as the writer stores them, with the next seq, then applied). The opens are
 * of a campaign this bench's POST case sent at the history's end (or of the recipients' latest send),
 * so the curves of bench/fatigue-dump.ts (all before the end) keep their answers. Wall and CPU ms (this
 * process: chDB runs in it) per run; BENCH_RUNS runs (3).
 *   DATA_DIR=/work/benchdata/pressure npx tsx bench/fatigue-write.ts
 */
import { randomUUID } from 'node:crypto'
import { seqBase } from '../src/events/sequence.js'
import { queryRows } from '../src/store/clickhouse.js'
import { applyStoredOutcomes, catchUpSendOutcomes, queueSendOutcomes, recomputeSendOutcomes } from '../src/store/send-outcomes.js'
import { startParts } from './lib/parts.js'

const { bench, db, runs } = await startParts('pressure', 'BENCH_PARTS')
const { deps } = bench
const END = Date.parse('2026-11-30T00:00:00Z')
const ids = Array.from({ length: 10_000 }, (_, i) => `r${(i * 97) % 1_000_000}`)
const measure = async (name: string, run: () => Promise<unknown>) => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const out = await run()
  const c = process.cpuUsage(c0)
  console.log(`${name.padEnd(52)} ${(performance.now() - t0).toFixed(0).padStart(8)} ms wall ${((c.user + c.system) / 1000).toFixed(0).padStart(6)} ms cpu ${out === undefined ? '' : JSON.stringify(out)}`)
}
// A campaign sent at the end to these recipients (the POST case's), else the latest one sent to the first.
const [post] = await queryRows<{ c: string }>(
  deps.events,
  `SELECT campaign_id AS c FROM ${db}.sends WHERE recipient_id = {r:String} AND sent_at >= fromUnixTimestamp64Milli({end:Int64}, 'UTC') ORDER BY sent_at DESC LIMIT 1`,
  { r: ids[0]!, end: END },
)
if (!post) throw new Error('no send at the history\'s end: run the POST case of bench/pressure.ts once first')
for (let run = 0; run < runs; run++) {
  await measure('recompute 10,000 recipients (a sends call)', () => recomputeSendOutcomes(deps.events, ids))
  // What a sends call pays since the second pass: the queue insert; the catch-up comes after the answer.
  await measure('queue 10,000 recipients (a sends call)', () => queueSendOutcomes(deps, ids))
  await measure('catch-up of the 10,000 queued', () => catchUpSendOutcomes(deps))
  const batch = deps.sequence.reserve()
  await deps.events.client.command({
    query: `INSERT INTO ${db}.events (event_id, type, ts, campaign_id, recipient_id, token_valid, method, class, seq)
            SELECT toString(generateUUIDv4(number)), 'open', fromUnixTimestamp64Milli({at:Int64}, 'UTC'), {c:String}, r, 1, 'GET', 'human', {base:UInt64} + number
            FROM (SELECT arrayJoin({ids:Array(String)}) AS r, rowNumberInAllBlocks() AS number)`,
    query_params: { at: END + 3_600_000, c: post.c, ids, base: seqBase(batch) },
    clickhouse_settings: { insert_deduplication_token: `bench-open:${randomUUID()}` },
  })
  deps.sequence.commit(batch)
  await measure('catch-up after 10,000 new engagers (before a read)', () => applyStoredOutcomes(deps.events, deps.sequence.committed))
  await measure('catch-up with nothing new', () => applyStoredOutcomes(deps.events, deps.sequence.committed))
}
await bench.stop()
process.exit(0)
