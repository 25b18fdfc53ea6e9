/*
 * Sequences at the scale: 1 M enrolments in a four-step series (P0D, P3D, P7D, P14D) entered
 * over 60 days, ~2.65 M step sends, their opens and clicks (people and machines) and conversions;
 * then the latency of the funnel, of `due` for 10,000 recipients, of enrolling 10,000 in one call
 * and of marking a step sent for 10,000 through POST /sends. `cpu ms` is the median CPU time of the
 * whole process per call (the HTTP client, the server, PGlite and chDB all run in it), which moves
 * less than wall time when other work shares the machine.
 *
 *   npx tsx bench/sequences.ts
 *   BENCH_ENROLLMENTS=100000 npx tsx bench/sequences.ts
 *
 * With DATA_DIR set, a second run on that directory reuses the data the first one generated.
 * BENCH_ONLY=<regexp> times only the calls whose name matches (e.g. 'enrol|due'). BENCH_DUMP=<dir>
 * writes the answers of the funnel (three variants) and of the first BENCH_DUMP_PAGES (default 8)
 * pages of `due` (a fixed `until`, BENCH_DUMP_UNTIL, default 2026-12-01) as JSON there and times nothing:
 * dump before and after a change and compare. BENCH_DUE_SKIP=<n> starts the timed following pages
 * of `due` n pages further (walked untimed first).
 *
 * The data is written straight into the stores (the metadata store in 50,000-row statements,
 * ClickHouse by INSERT … SELECT), in the layout the API writes; the timed calls go through HTTP.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { sql } from 'drizzle-orm'
import { applyStoredConversions, markQueuedExits } from '../src/services/sequences.js'
import { chDateTime } from '../src/store/clickhouse.js'
import { BENCH_KEY, startBenchServer } from './lib/bench-server.js'

const N = Number(process.env.BENCH_ENROLLMENTS ?? 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 9)
const DAY = 86_400_000
const OFFSETS = [0, 3 * DAY, 7 * DAY, 14 * DAY]
const STEPS = ['s1', 's2', 's3', 's4']
const SEQ = 'bench-seq'

const bench = await startBenchServer('sequences')
const { deps, base } = bench
const db = deps.events.db
const now = deps.clock()
const start = now - 60 * DAY

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${BENCH_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`)
  return { bytes: text.length, body: JSON.parse(text) as any }
}

/** A deterministic 32-bit mix of i (so a re-run builds the same data). */
const mix = (i: number) => {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Ids of this run's new recipients, distinct from any earlier run's on the same data. */
const tag = Date.now().toString(36)
const reuse = (await fetch(`${base}/v1/sequences/${SEQ}`, { headers: { authorization: `Bearer ${BENCH_KEY}` } })).status === 200
if (reuse) console.log(`reusing the data in ${bench.dataDir}`)
else await generate()

async function generate() {
  for (const [i, s] of STEPS.entries()) await api('POST', '/v1/campaigns', { id: `bench-seq-${s}`, name: `Bench step ${i + 1}` })
  await api('POST', '/v1/sequences', {
    id: SEQ,
    name: 'Bench series',
    steps: STEPS.map((s, i) => ({ id: s, campaignId: `bench-seq-${s}`, offset: ['P0D', 'P3D', 'P7D', 'P14D'][i] })),
    goal: { type: 'purchase', within: 'P30D' },
  })
  let t = performance.now()
  const BATCH = 50_000
  let sendsTotal = 0
  for (let from = 0; from < N; from += BATCH) {
    const ids: string[] = []
    const entered: string[] = []
    const status: string[] = []
    const reached: number[] = []
    const next: Array<string | null> = []
    const due: Array<string | null> = []
    const exitReason: Array<string | null> = []
    const exitStep: Array<string | null> = []
    const exitedAt: Array<string | null> = []
    const sent: string[] = []
    const chEnr: object[] = []
    const chSends: object[] = []
    for (let i = from; i < Math.min(N, from + BATCH); i++) {
      const h = mix(i)
      const b = h % 100
      const x = (h >>> 8) % 20
      const e = start + (i % 60) * DAY + ((h >>> 12) % 86_400) * 1000
      // Steps sent: 4 for 40%, 3 for 15%, 2 for 20%, 1 for 20%, none for 5% (not all due yet for the latest cohorts).
      let k = b < 40 ? 4 : b < 55 ? 3 : b < 75 ? 2 : b < 95 ? 1 : 0
      while (k > 0 && e + OFFSETS[k - 1]! > now) k--
      const sentMap: Record<string, string> = {}
      for (let j = 0; j < k; j++) {
        const at = e + OFFSETS[j]! + ((h >>> (j * 3)) % 3600) * 1000
        sentMap[STEPS[j]!] = new Date(at).toISOString()
        chSends.push({ sequence_id: SEQ, step_id: STEPS[j], campaign_id: `bench-seq-${STEPS[j]}`, recipient_id: `r${i}`, entered_at: chDateTime(e), sent_at: chDateTime(at) })
      }
      sendsTotal += k
      const st = k === 4 ? 'completed' : x === 0 ? 'converted' : x === 1 ? 'unsubscribed' : x === 2 ? 'removed' : 'active'
      const exitAt = k < 4 ? Math.min(now, e + OFFSETS[k]! - 3600_000 * (1 + (h % 20))) : 0
      ids.push(`r${i}`)
      entered.push(new Date(e).toISOString())
      reached.push(k > 0 ? OFFSETS[k - 1]! : -1)
      sent.push(JSON.stringify(sentMap))
      if (st === 'completed' || st === 'active') {
        status.push(st)
        next.push(st === 'active' ? STEPS[k]! : null)
        due.push(st === 'active' ? new Date(e + OFFSETS[k]!).toISOString() : null)
        exitReason.push(null)
        exitStep.push(null)
        exitedAt.push(null)
      } else {
        status.push('exited')
        next.push(STEPS[k]!)
        due.push(null)
        exitReason.push(st)
        exitStep.push(STEPS[k]!)
        exitedAt.push(new Date(exitAt).toISOString())
      }
      chEnr.push({
        sequence_id: SEQ,
        recipient_id: `r${i}`,
        entered_at: chDateTime(e),
        status: status[status.length - 1],
        exit_reason: exitReason[exitReason.length - 1] ?? '',
        exit_step_id: exitStep[exitStep.length - 1] ?? '',
        exited_at: chDateTime(exitAt),
        version: 1,
      })
    }
    await deps.meta.db.execute(sql`
      INSERT INTO sequence_enrollments (sequence_id, recipient_id, entered_at, status, reached_ms, next_step_id, due_at, exit_reason, exit_step_id, exited_at, sent)
      SELECT ${SEQ}, u.id, u.entered, u.status, u.reached, u.next, u.due, u.reason, u.step, u.exited, u.sent::jsonb
      FROM unnest(${sql.param(ids)}::text[], ${sql.param(entered)}::timestamptz[], ${sql.param(status)}::text[], ${sql.param(reached)}::bigint[],
                  ${sql.param(next)}::text[], ${sql.param(due)}::timestamptz[], ${sql.param(exitReason)}::text[], ${sql.param(exitStep)}::text[],
                  ${sql.param(exitedAt)}::timestamptz[], ${sql.param(sent)}::text[])
        AS u(id, entered, status, reached, next, due, reason, step, exited, sent)`)
    const token = () => ({ insert_deduplication_token: randomUUID(), async_insert: 0 as const })
    await deps.events.client.insert({ table: `${db}.sequence_enrollments`, values: chEnr, format: 'JSONEachRow', clickhouse_settings: token() })
    await deps.events.client.insert({ table: `${db}.sequence_sends`, values: chSends, format: 'JSONEachRow', clickhouse_settings: token() })
  }
  await deps.meta.db.execute(sql`ANALYZE sequence_enrollments`)
  console.log(`enrolments: ${N} (${sendsTotal} step sends) in ${((performance.now() - t) / 1000).toFixed(1)} s`)

  t = performance.now()
  const insertEvents = (query: string) => deps.events.client.command({ query, clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 } })
  // The sends table as the sends path fills it, then opens (45%: a third of them machine prefetches),
  // clicks (10% human, 2% a scanner's), unsubscribes of those who left so, purchases of the converted
  // and of 3% of the others.
  await insertEvents(`INSERT INTO ${db}.sends (campaign_id, recipient_id, sent_at) SELECT campaign_id, recipient_id, sent_at FROM ${db}.sequence_sends`)
  await insertEvents(`INSERT INTO ${db}.events (event_id, type, ts, campaign_id, recipient_id, token_valid, method, class, reasons)
    SELECT toString(cityHash64(step_id, recipient_id, 'o')), 'open', sent_at + toIntervalSecond(60 + cityHash64(recipient_id, step_id, 2) % 86400), campaign_id, recipient_id, true, 'GET',
           if(cityHash64(recipient_id, step_id, 1) % 100 < 15, 'machine_open', 'human'), if(cityHash64(recipient_id, step_id, 1) % 100 < 15, ['apple_mpp'], [])
    FROM ${db}.sequence_sends WHERE cityHash64(recipient_id, step_id, 1) % 100 < 45`)
  await insertEvents(`INSERT INTO ${db}.events (event_id, type, ts, campaign_id, link_id, recipient_id, token_valid, method, class, reasons)
    SELECT toString(cityHash64(step_id, recipient_id, 'c')), 'click', sent_at + toIntervalSecond(if(h < 10, 120 + cityHash64(recipient_id, 3) % 172800, 2)), campaign_id, 'L1', recipient_id, true, 'GET',
           if(h < 10, 'human', 'scanner_click'), if(h < 10, [], ['scanner_ua'])
    FROM (SELECT *, cityHash64(recipient_id, step_id, 4) % 100 AS h FROM ${db}.sequence_sends) WHERE h < 12`)
  await insertEvents(`INSERT INTO ${db}.events (event_id, type, ts, campaign_id, recipient_id, token_valid, method, class)
    SELECT concat('u-', recipient_id), 'unsubscribe', exited_at, 'bench-seq-s1', recipient_id, true, 'POST', 'human'
    FROM ${db}.sequence_enrollments WHERE exit_reason = 'unsubscribed'`)
  await insertEvents(`INSERT INTO ${db}.events (event_id, type, ts, campaign_id, recipient_id, token_valid, method, class, amount, currency, order_id, extra)
    SELECT concat('cv-', recipient_id), 'conversion', if(exit_reason = 'converted', exited_at, entered_at + toIntervalHour(1 + cityHash64(recipient_id) % 600)), '', recipient_id, true, 'POST', 'human',
           toDecimal64(49.9, 4), 'EUR', concat('o-', recipient_id), '{"kind":"purchase","via":"recipient"}'
    FROM ${db}.sequence_enrollments WHERE exit_reason = 'converted' OR (status != 'exited' AND cityHash64(recipient_id, 9) % 100 < 3)`)
  const [counts] = (await (await deps.events.client.query({ query: `SELECT countIf(type IN ('open', 'click')) AS oc, countIf(type = 'conversion') AS cv FROM ${db}.events`, format: 'JSONEachRow' })).json()) as [{ oc: number; cv: number }]
  console.log(`events: ${counts.oc} opens and clicks, ${counts.cv} conversions in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  // Global suppressions of 0.5% of the active recipients, for `due` to find.
  await deps.meta.db.execute(sql`INSERT INTO suppressions (recipient_id, scope, reason, at)
    SELECT recipient_id, '', 'hard_bounce', now() FROM sequence_enrollments WHERE sequence_id = ${SEQ} AND status = 'active' AND hashtext(recipient_id) % 200 = 0`)

}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null
async function timed(name: string, runs: number, call: (i: number) => Promise<{ bytes: number; note?: string }>, before?: (i: number) => Promise<void>) {
  if (only && !only.test(name)) return
  const times: number[] = []
  const cpu: number[] = []
  const notes: string[] = []
  let last: { bytes: number; note?: string } = { bytes: 0 }
  for (let i = 0; i < runs; i++) {
    if (before) await before(i)
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    last = await call(i)
    times.push(performance.now() - t0)
    notes.push(last.note ?? '')
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
  }
  console.log(`${name.padEnd(40)} ${quantile(times, 0.5).toFixed(1).padStart(9)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${times[0]!.toFixed(1).padStart(8)} ${quantile(cpu, 0.5).toFixed(1).padStart(8)} ${String(last.bytes).padStart(9)}  ${last.note ?? ''}`)
  // BENCH_EACH=1: every run's wall / cpu ms and note, in order (e.g. which of the following pages had exits to mark).
  if (process.env.BENCH_EACH) times.forEach((t, i) => console.log(`  run ${i + 1}: ${t.toFixed(1)} / ${cpu[i]!.toFixed(1)}  ${notes[i] ?? ''}`))
}

if (process.env.BENCH_DUMP) {
  const dir = process.env.BENCH_DUMP
  mkdirSync(dir, { recursive: true })
  const until = process.env.BENCH_DUMP_UNTIL ?? '2026-12-01T00:00:00Z'
  for (const [name, path] of [
    ['funnel-week', `/v1/sequences/${SEQ}/funnel`],
    ['funnel-day', `/v1/sequences/${SEQ}/funnel?cohort=day`],
    ['funnel-all-month', `/v1/sequences/${SEQ}/funnel?traffic=all&cohort=month`],
    ['due', `/v1/sequences/${SEQ}/due?limit=10000&until=${until}`],
  ] as const) {
    writeFileSync(`${dir}/${name}.json`, JSON.stringify((await api('GET', path)).body, null, 1))
  }
  // The first page again (its exits now marked) and the one after it: the cursor's path.
  const first = (await api('GET', `/v1/sequences/${SEQ}/due?limit=10000&until=${until}`)).body
  writeFileSync(`${dir}/due-again.json`, JSON.stringify(first, null, 1))
  // The pages after it (the bench's data has exits to mark from the third on), BENCH_DUMP_PAGES in all.
  let next = first.next
  for (let page = 2; page <= Number(process.env.BENCH_DUMP_PAGES ?? 8) && next; page++) {
    const body = (await api('GET', `/v1/sequences/${SEQ}/due?limit=10000&until=${until}&cursor=${next}`)).body
    writeFileSync(`${dir}/due-${page}.json`, JSON.stringify(body, null, 1))
    next = body.next
  }
  // The funnel again, now counting the exits those pages marked.
  writeFileSync(`${dir}/funnel-week-after-pages.json`, JSON.stringify((await api('GET', `/v1/sequences/${SEQ}/funnel`)).body, null, 1))
  console.log(`answers written to ${dir}`)
  await bench.stop()
  process.exit(0)
}

console.log(`\n${'call'.padEnd(40)} ${'median ms'.padStart(9)} ${'p90 ms'.padStart(8)} ${'first'.padStart(8)} ${'cpu ms'.padStart(8)} ${'bytes'.padStart(9)}`)
await timed('funnel (cohort=week)', RUNS, async () => {
  const r = await api('GET', `/v1/sequences/${SEQ}/funnel`)
  return { bytes: r.bytes, note: `entered ${r.body.entered}, sent ${r.body.steps.map((s: { sent: number }) => s.sent).join('/')}` }
})
await timed('funnel (cohort=day)', RUNS, async () => ({ bytes: (await api('GET', `/v1/sequences/${SEQ}/funnel?cohort=day`)).bytes }))
await timed('funnel (traffic=all, cohort=month)', RUNS, async () => ({ bytes: (await api('GET', `/v1/sequences/${SEQ}/funnel?traffic=all&cohort=month`)).bytes }))
// The first read after a change (untimed before each run: 1,000 enrolled now): the day they marked
// (today) is computed again by this read.
await timed(
  'funnel after a change (cohort=week)',
  RUNS,
  async () => ({ bytes: (await api('GET', `/v1/sequences/${SEQ}/funnel`)).bytes }),
  async (i) => {
    const recipients = Array.from({ length: 1_000 }, (_, j) => ({ id: `chg-${tag}-${i}-${j}` }))
    await api('POST', `/v1/sequences/${SEQ}/enrollments`, { recipients })
  },
)
// As after an upgrade: every stored conversion applied again from the start (idempotent), in pages.
await timed('goal pass from scratch', Number(process.env.BENCH_GOAL_RUNS ?? 1), async () => {
  await deps.meta.db.execute(sql`UPDATE sequence_goal_cursor SET seq = -1, event_id = NULL`)
  // Each page is one transaction: the longest is how long the pass holds the cursor's lock at once.
  const db = deps.meta.db
  const transaction = db.transaction.bind(db)
  const spans: number[] = []
  db.transaction = (async (f: Parameters<typeof transaction>[0]) => {
    const t0 = performance.now()
    try {
      return await transaction(f)
    } finally {
      spans.push(performance.now() - t0)
    }
  }) as typeof db.transaction
  await applyStoredConversions(deps).finally(() => (db.transaction = transaction))
  return { bytes: 0, note: `${spans.length} transactions, the longest ${Math.max(...spans).toFixed(0)} ms` }
})
// The first page, the same page every run: the first call finds and marks its exits (suppressed,
// converted) and reads its rows from disk; the next ones read the same page from the cache.
await timed('due, first page, limit=10000', RUNS, async () => {
  const r = await api('GET', `/v1/sequences/${SEQ}/due?limit=10000`)
  return { bytes: r.bytes, note: `${r.body.due.length} due, skipped ${JSON.stringify(r.body.skipped)}` }
})
// The pages after it by their cursors, a new page every run (pages 2 to RUNS + 1): each one's rows
// read for the first time in this process, as a sender walking the list reads them.
if (!only || only.test('due, following pages, limit=10000')) {
  let cursor = (await api('GET', `/v1/sequences/${SEQ}/due?limit=10000`)).body.next as string | null
  let walkExits = 0
  // BENCH_DUE_SKIP=n: start n pages further (untimed), e.g. where the pages have exits to mark.
  for (let k = 0; k < Number(process.env.BENCH_DUE_SKIP ?? 0) && cursor; k++) cursor = (await api('GET', `/v1/sequences/${SEQ}/due?limit=10000&cursor=${cursor}`)).body.next
  await timed('due, following pages, limit=10000', RUNS, async () => {
    if (!cursor) throw new Error('due: fewer pages than runs')
    const r = await api('GET', `/v1/sequences/${SEQ}/due?limit=10000&cursor=${cursor}`)
    cursor = r.body.next
    walkExits += Object.values(r.body.skipped as Record<string, number>).reduce((x, y) => x + y, 0)
    return { bytes: r.bytes, note: `${r.body.due.length} due, skipped ${JSON.stringify(r.body.skipped)}` }
  })
  // The exits those pages found are marked after the answers (once due is quiet, or at most 5 s on):
  // what that costs at once, if it has not run yet.
  await timed('due, the walk\'s exits marked after', 1, async () => {
    await markQueuedExits(deps)
    return { bytes: 0, note: `${walkExits} exits found by the pages` }
  })
}
await timed('enrol 10000 new recipients', RUNS, async (i) => {
  const r = await api('POST', `/v1/sequences/${SEQ}/enrollments`, { recipients: Array.from({ length: 10_000 }, (_, j) => ({ id: `new-${tag}-${i}-${j}`, segments: ['bench'] })) })
  return { bytes: r.bytes, note: `enrolled ${r.body.enrolled}` }
})
await timed('enrol the same 10000 again (unchanged)', 3, async () => {
  const r = await api('POST', `/v1/sequences/${SEQ}/enrollments`, { recipients: Array.from({ length: 10_000 }, (_, j) => ({ id: `new-${tag}-0-${j}`, segments: ['bench'] })) })
  return { bytes: r.bytes, note: `unchanged ${r.body.unchanged.length}` }
})
await timed('POST /sends of step 1 to 10000, sequence', RUNS, async (i) => {
  const r = await api('POST', `/v1/campaigns/bench-seq-s1/sends`, { recipients: Array.from({ length: 10_000 }, (_, j) => ({ id: `new-${tag}-${i}-${j}` })), sequence: { id: SEQ, stepId: 's1' } })
  return { bytes: r.bytes, note: `marked ${r.body.sequence.marked}` }
})

await bench.stop()
process.exit(0)
