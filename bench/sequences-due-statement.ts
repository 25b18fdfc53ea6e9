/*
 * The page statement of `due` alone, in PGlite (no server, no HTTP), on the sequences bench data
 * with migration 0370 applied (start the bench once on the copy first): the items formatted per
 * call from the row's columns (before 0370: two to_char and four to_json per row) against the
 * items stored with each entry (due_item_head/tail), read through the CTE and sorted, and read
 * straight from the index range in its order (what `due` does). Checks that the three texts are
 * the same, then prints the median CPU ms of the process per statement, alternating.
 *
 *   DATA_DIR=<copy of the sequences data> BENCH_RUNS=11 npx tsx bench/sequences-due-statement.ts
 */
import { PGlite } from '@electric-sql/pglite'

const RUNS = Number(process.env.BENCH_RUNS ?? 11)
const pg = new PGlite(`${process.env.DATA_DIR}/meta`)
await pg.waitReady
const until = new Date().toISOString()
const range = `sequence_id = 'bench-seq' AND status = 'active' AND due_at <= '${until}'::timestamptz`
const campaign = `coalesce(to_json('{"s1":"bench-seq-s1","s2":"bench-seq-s2","s3":"bench-seq-s3","s4":"bench-seq-s4"}'::jsonb ->> next_step_id)::text, 'null')`
const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
const str = (c: string) => `coalesce(to_json(${c})::text, 'null')`
const page = (cols: string) => `WITH page AS MATERIALIZED (SELECT ${cols}, (row_number() OVER (ORDER BY due_at, recipient_id) - 1)::int AS i
  FROM (SELECT ${cols} FROM sequence_enrollments WHERE ${range} ORDER BY due_at, recipient_id LIMIT 10001) AS p)`
const statements = {
  'formatted per call (before)': `${page('recipient_id, entered_at, due_at, next_step_id, variant, segments, attributes')}
    SELECT (SELECT string_agg(concat('{"recipientId":', ${str('recipient_id')}, ',"stepId":', ${str('next_step_id')}, ',"campaignId":', ${campaign},
      ',"dueAt":"', ${iso('due_at')}, '","enteredAt":"', ${iso('entered_at')}, '","variant":', ${str('variant')},
      ',"segments":', coalesce(to_json(segments)::text, '[]'), ',"attributes":', coalesce(attributes::text, '{}'), '}'), ',' ORDER BY i) FROM page WHERE i < 10000) AS items, (SELECT count(*) FROM page) AS n`,
  'stored, through the CTE, sorted': `${page('recipient_id, due_at, next_step_id, due_item_head, due_item_tail')}
    SELECT (SELECT string_agg(concat(due_item_head, ',"campaignId":', ${campaign}, due_item_tail), ',' ORDER BY i) FROM page WHERE i < 10000) AS items, (SELECT count(*) FROM page) AS n`,
  'stored, in index order (now)': `${page('recipient_id, due_at, next_step_id')}
    SELECT (SELECT string_agg(concat(due_item_head, ',"campaignId":', ${campaign}, due_item_tail), ',' ORDER BY due_at, recipient_id)
      FROM (SELECT due_at, recipient_id, next_step_id, due_item_head, due_item_tail FROM sequence_enrollments WHERE ${range} ORDER BY due_at, recipient_id LIMIT 10000) AS q) AS items,
      (SELECT count(*) FROM page) AS n`,
}
const texts = await Promise.all(Object.values(statements).map(async (q) => (await pg.query<{ items: string }>(q)).rows[0]!.items))
console.log(`items text: ${texts[0]!.length} chars, the same in all three: ${texts.every((t) => t === texts[0])}`)
const cpu: Record<string, number[]> = {}
for (let i = 0; i < RUNS; i++) {
  for (const [name, q] of Object.entries(statements)) {
    const c0 = process.cpuUsage()
    await pg.query(q)
    const c = process.cpuUsage(c0)
    ;(cpu[name] ??= []).push((c.user + c.system) / 1000)
  }
}
for (const [name, xs] of Object.entries(cpu)) console.log(`${name.padEnd(34)} cpu ms median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1)}`)
await pg.close()
