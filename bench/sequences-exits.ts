/*
 * The cost of marking a `due` page's exits, the previous way against this one, in one process on
 * the sequences bench data (run it on a fresh copy: it marks the exits it finds). Pages of 10,000
 * active entries in due order from BENCH_FROM_PAGE (default 11, the first with exits on the bench's
 * data), in turn:
 *   by key + mirror: UPDATE … FROM unnest(ids) by key, RETURNING, then the rows inserted into
 *                    ClickHouse's sequence_enrollments in the call (the eighth session's code);
 *   by key + queue:  the same UPDATE, its rows queued in sequence_mirror_pending by the same statement;
 *   ctid + queue:    UPDATE by the row version the page read (ctid), queued the same way (what
 *                    `due` does now);
 * then the catch-up that writes the queued rows of the last two kinds' pages to ClickHouse at
 * once (what runs after `due` has been quiet for a second). CPU ms is the whole process's.
 *
 *   DATA_DIR=<fresh copy of the sequences data> BENCH_PAGES=10 npx tsx bench/sequences-exits.ts
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { catchUpSequenceMirror } from '../src/services/sequences.js'
import { chDateTime, insertRows } from '../src/store/clickhouse.js'
import { startBenchServer } from './lib/bench-server.js'

const SEQ = 'bench-seq'
const PAGES = Number(process.env.BENCH_PAGES ?? 10)
const bench = await startBenchServer('sequences')
const { deps } = bench
const db = deps.meta.db
const now = new Date(deps.clock()).toISOString()
type Row = { recipient_id: string; tid: string; reason: string; at: string }

// The page's exits (a conversion applied, a global suppression), with where each row version is.
async function pageExits(after: { at: string; id: string } | null): Promise<{ exits: Row[]; last: { at: string; id: string } }> {
  const res = (await db.execute(sql`
    WITH page AS MATERIALIZED (
      SELECT recipient_id, due_at, goal_at, ctid FROM sequence_enrollments
      WHERE sequence_id = ${SEQ} AND status = 'active' AND due_at <= ${now}::timestamptz
        ${after ? sql`AND (due_at, recipient_id) > (${after.at}::timestamptz, ${after.id})` : sql``}
      ORDER BY due_at, recipient_id LIMIT 10000)
    SELECT p.recipient_id, p.ctid::text AS tid,
           CASE WHEN s.recipient_id IS NOT NULL THEN CASE WHEN s.reason = 'unsubscribe' THEN 'unsubscribed' ELSE 'suppressed' END ELSE 'converted' END AS reason,
           coalesce(s.at, p.goal_at)::text AS at, NULL AS last_at
    FROM page p LEFT JOIN suppressions s ON s.recipient_id = p.recipient_id AND s.scope = ''
    WHERE s.recipient_id IS NOT NULL OR p.goal_at <= ${now}::timestamptz
    UNION ALL
    SELECT recipient_id, '', '', '', due_at::text FROM (SELECT * FROM page ORDER BY due_at DESC, recipient_id DESC LIMIT 1) l`)) as unknown as { rows: Array<Row & { last_at: string | null }> }
  const last = res.rows.at(-1)!
  return { exits: res.rows.slice(0, -1), last: { at: last.last_at!, id: last.recipient_id } }
}

async function byKeyAndMirror(exits: Row[]) {
  const changed = (await db.execute(sql`
    UPDATE sequence_enrollments e SET status = 'exited', exit_reason = x.reason, exit_step_id = e.next_step_id, exited_at = x.at, due_at = NULL
    FROM unnest(${sql.param(exits.map((r) => r.recipient_id))}::text[], ${sql.param(exits.map((r) => r.reason))}::text[], ${sql.param(exits.map((r) => r.at))}::timestamptz[]) AS x(id, reason, at)
    WHERE e.sequence_id = ${SEQ} AND e.recipient_id = x.id AND e.status = 'active'
    RETURNING e.recipient_id, e.entered_at, e.exit_step_id, e.exit_reason, e.exited_at`)) as unknown as { rows: Array<Record<string, string>> }
  const version = deps.clock()
  await insertRows(
    deps.events,
    'sequence_enrollments',
    ['sequence_id', 'recipient_id', 'entered_at', 'status', 'exit_reason', 'exit_step_id', 'exited_at', 'version'],
    changed.rows.map((r) => [SEQ, r.recipient_id!, chDateTime(new Date(r.entered_at!).getTime()), 'exited', r.exit_reason!, r.exit_step_id ?? '', chDateTime(new Date(r.exited_at!).getTime()), version]),
    { insert_deduplication_token: `seq-enr:${randomUUID()}`, async_insert: 0 },
  )
  return changed.rows.length
}

async function queued(exits: Row[], byTid: boolean) {
  const res = (await db.execute(sql`
    WITH exited AS (
      UPDATE sequence_enrollments e SET status = 'exited', exit_reason = x.reason, exit_step_id = e.next_step_id, exited_at = x.at, due_at = NULL
      FROM unnest(${sql.param(exits.map((r) => r.recipient_id))}::text[], ${sql.param(exits.map((r) => r.reason))}::text[], ${sql.param(exits.map((r) => r.at))}::timestamptz[], ${sql.param(exits.map((r) => r.tid))}::tid[]) AS x(id, reason, at, tid)
      WHERE ${byTid ? sql`e.ctid = x.tid AND ` : sql``}e.sequence_id = ${SEQ} AND e.recipient_id = x.id AND e.status = 'active'
      RETURNING e.sequence_id, e.recipient_id, e.entered_at, e.exit_reason, e.exit_step_id, e.exited_at)
    INSERT INTO sequence_mirror_pending (sequence_id, recipient_id, entered_at, status, exit_reason, exit_step_id, exited_at, version)
    SELECT sequence_id, recipient_id, entered_at, 'exited', exit_reason, exit_step_id, exited_at, ${deps.clock()}::bigint FROM exited
    RETURNING recipient_id`)) as unknown as { rows: unknown[] }
  return res.rows.length
}

const timedCall = async <T>(f: () => Promise<T>) => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const v = await f()
  const c = process.cpuUsage(c0)
  return { v, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }
}

let after: { at: string; id: string } | null = null
for (let p = 1; p < Number(process.env.BENCH_FROM_PAGE ?? 11); p++) after = (await pageExits(after)).last
const variants = [
  ['by key + mirror', byKeyAndMirror],
  ['by key + queue', (x: Row[]) => queued(x, false)],
  ['ctid + queue', (x: Row[]) => queued(x, true)],
] as const
const results: Record<string, Array<{ wall: number; cpu: number; n: number }>> = Object.fromEntries(variants.map(([name]) => [name, []]))
for (let p = 0; p < PAGES; p++) {
  const page = await pageExits(after)
  after = page.last
  const [name, f] = variants[p % variants.length]!
  const r = await timedCall(() => f(page.exits))
  results[name]!.push({ wall: r.wall, cpu: r.cpu, n: r.v })
  console.log(`page ${p}: ${name.padEnd(16)} ${String(r.v).padStart(4)} exits  ${r.wall.toFixed(1).padStart(7)} ms  ${r.cpu.toFixed(1).padStart(7)} cpu ms`)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, rs] of Object.entries(results)) {
  console.log(`${name.padEnd(16)} median ${median(rs.map((r) => r.wall)).toFixed(1)} ms, ${median(rs.map((r) => r.cpu)).toFixed(1)} cpu ms (${rs.length} pages)`)
}
const queuedRows = results['by key + queue']!.concat(results['ctid + queue']!).reduce((a, r) => a + r.n, 0)
const drain = await timedCall(() => catchUpSequenceMirror(deps))
console.log(`catch-up of the ${queuedRows} queued rows at once: ${drain.wall.toFixed(1)} ms, ${drain.cpu.toFixed(1)} cpu ms`)
await bench.stop()
process.exit(0)
