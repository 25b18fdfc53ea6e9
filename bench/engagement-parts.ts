/**
 * Where the engagement counts' time goes: the parts of engagementStatusSql (src/metrics/recipient-activity.ts),
 * each alone, on the data bench/pressure.ts built (DATA_DIR), at the history's end (END: events after `at`
 * exist) and at "now" (after every event). Prints wall and CPU ms (this process: chDB runs in it) per part,
 * the median of BENCH_RUNS runs (3) after one warm-up; BENCH_PARTS a regular expression choosing parts.
 *   DATA_DIR=/work/benchdata/pressure BENCH_RUNS=3 npx tsx bench/engagement-parts.ts
 */
import { DEFAULT_THRESHOLDS, engagementStatusSql } from '../src/metrics/recipient-activity.js'
import { startParts, timeQuery } from './lib/parts.js'

const { bench, db, runs: RUNS, only } = await startParts('pressure', 'BENCH_PARTS')
const DAY = 86_400_000
const END = Date.parse('2026-11-30T00:00:00Z')

const lastOf = (m: 'opens' | 'clicks') => `arrayMax(arrayPushBack(arrayFilter(t -> t <= {at:Int64}, ${m}.2), 0))`
const bound = (m: string, f: string) => `arrayMax(arrayPushBack(arrayMap((t, f) -> multiIf(t <= {at:Int64}, t, f <= {at:Int64}, f, 0), ${m}.2, ${f}.2), 0))`
const parts: Array<[string, string]> = [
  [
    'sends side (recipient_sends FINAL)',
    `SELECT count(), sum(recent_sends) FROM (
       SELECT recipient_id, length(ts) AS sends, arrayCount(t -> t > {inactiveFrom:Int64}, ts) AS recent_sends, arrayMax(ts) AS last_sent
       FROM (SELECT recipient_id, arrayFilter((t, c) -> t <= {at:Int64}, sends.2, sends.1) AS ts FROM ${db}.recipient_sends FINAL) WHERE notEmpty(ts))`,
  ],
  ['rows last_engaged <= at (the column)', `SELECT count(), max(last_engaged) FROM ${db}.recipient_engagement WHERE last_engaged <= {at:Int64}`],
  [
    'rows last_engaged > at (the maps)',
    `SELECT count(), max(o), max(k) FROM (SELECT ${lastOf('opens')} AS o, ${lastOf('clicks')} AS k FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
  [
    'ambiguous pairs',
    `SELECT count() FROM (SELECT recipient_id, arrayJoin(arrayConcat(
       arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}, opens.1, opens.2, first_opens.2),
       arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}, clicks.1, clicks.2, first_clicks.2)))
     FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
  [
    'events of the ambiguous pairs',
    `SELECT count() FROM ${db}.events
     WHERE type IN ('open', 'click') AND class = 'human' AND recipient_id != '' AND ts <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')
       AND (recipient_id, campaign_id) IN (SELECT recipient_id, arrayJoin(arrayConcat(
         arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}, opens.1, opens.2, first_opens.2),
         arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}, clicks.1, clicks.2, first_clicks.2)))
       FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
]
const full = (at: number, statusOnly = false) => engagementStatusSql(db, { at, thresholds: DEFAULT_THRESHOLDS }, { statusOnly })
const statusQuery = (at: number, statusOnly = false) => `SELECT status, count() AS n FROM (${full(at, statusOnly).sql}) GROUP BY status ORDER BY status`
parts.push(
  [
    'status-only sends side',
    `SELECT count(), sum(recent_sends) FROM (SELECT recipient_id, arrayCount(t -> t > {inactiveFrom:Int64} AND t <= {at:Int64}, sends.2) AS recent_sends
       FROM ${db}.recipient_sends FINAL WHERE arrayExists(t -> t <= {at:Int64}, sends.2))`,
  ],
  [
    'status-only: bound of rows last_engaged > at',
    `SELECT count(), max(b) FROM (SELECT greatest(${bound('opens', 'first_opens')}, ${bound('clicks', 'first_clicks')}) AS b FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
  [
    'status-only: bound, four arrayFilter',
    `SELECT count(), max(b) FROM (SELECT greatest(${[' opens', 'clicks', 'first_opens', 'first_clicks'].map((m) => `arrayMax(arrayFilter(x -> x <= {at:Int64}, ${m.trim()}.2))`).join(', ')}) AS b FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
  [
    'status-only: bound, firsts only when needed',
    `SELECT count(), max(b) FROM (SELECT greatest(arrayMax(arrayFilter(x -> x <= {at:Int64}, opens.2)), arrayMax(arrayFilter(x -> x <= {at:Int64}, clicks.2))) AS l,
       if(l > {activeFrom:Int64}, l, greatest(l, arrayMax(arrayFilter(x -> x <= {at:Int64}, first_opens.2)), arrayMax(arrayFilter(x -> x <= {at:Int64}, first_clicks.2)))) AS b
       FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
  [
    'status-only: latest maps only (no firsts)',
    `SELECT count(), max(l) FROM (SELECT greatest(arrayMax(arrayFilter(x -> x <= {at:Int64}, opens.2)), arrayMax(arrayFilter(x -> x <= {at:Int64}, clicks.2))) AS l
       FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64})`,
  ],
  // The same aggregation grouped by the id itself and by hashes of it (to compare the key's cost).
  ...(
    [
      ['aggregation only: sends rows + every engagement row by recipient', 'recipient_id'],
      ['aggregation only, by sipHash128', 'sipHash128(recipient_id)'],
      ['aggregation only, by two 64-bit hashes', '(cityHash64(recipient_id), xxHash64(recipient_id))'],
      ['aggregation only, by cityHash64 (not exact: to compare)', 'cityHash64(recipient_id)'],
    ] as const
  ).map(([name, key]): [string, string] => [
    name,
    `SELECT count(), sum(e) FROM (SELECT ${key} AS k, max(sent) AS s, max(recent) AS r, max(engaged) AS e FROM (
       SELECT recipient_id, 1 AS sent, arrayCount(t -> t > {inactiveFrom:Int64} AND t <= {at:Int64}, sends.2) AS recent, toInt64(0) AS engaged FROM ${db}.recipient_sends FINAL WHERE arrayExists(t -> t <= {at:Int64}, sends.2)
       UNION ALL SELECT recipient_id, 0, 0, last_engaged FROM ${db}.recipient_engagement) GROUP BY k HAVING s = 1)`,
  ]),
  [
    'aggregation only, join instead',
    `SELECT count(), sum(e) FROM (SELECT recipient_id, arrayCount(t -> t > {inactiveFrom:Int64} AND t <= {at:Int64}, sends.2) AS recent FROM ${db}.recipient_sends FINAL WHERE arrayExists(t -> t <= {at:Int64}, sends.2)) AS s
       LEFT JOIN (SELECT recipient_id, max(last_engaged) AS e FROM ${db}.recipient_engagement GROUP BY recipient_id) AS x USING (recipient_id)`,
  ],
  [
    'aggregation only, join, engagement side not grouped (any)',
    `SELECT count(), sum(e) FROM (SELECT recipient_id, arrayCount(t -> t > {inactiveFrom:Int64} AND t <= {at:Int64}, sends.2) AS recent FROM ${db}.recipient_sends FINAL WHERE arrayExists(t -> t <= {at:Int64}, sends.2)) AS s
       LEFT JOIN (SELECT recipient_id, last_engaged AS e FROM ${db}.recipient_engagement) AS x USING (recipient_id) SETTINGS join_any_take_last_row = 0`,
  ],
  ['status-only: read the four arrays only', `SELECT count(), sum(length(opens.2) + length(clicks.2) + length(first_opens.2) + length(first_clicks.2)) FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64}`],
  [
    'status-only: pairs to read from events',
    `SELECT count() FROM (SELECT recipient_id, arrayJoin(arrayConcat(
       arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}, opens.1, opens.2, first_opens.2),
       arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}, clicks.1, clicks.2, first_clicks.2)))
     FROM ${db}.recipient_engagement WHERE last_engaged > {at:Int64} AND greatest(${bound('opens', 'first_opens')}, ${bound('clicks', 'first_clicks')}) <= {activeFrom:Int64})`,
  ],
  ['whole counts query, full variant (status, count)', ''], // filled per instant
  ['whole counts query, status-only variant', ''],
  ['status-only: join only (count())', ''],
)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
/** Median wall and CPU ms of RUNS runs after one warm-up, and the last run's rows. */
async function measure(sql: string, params: Record<string, unknown>): Promise<{ wall: number; cpu: number; rows: unknown[] }> {
  const wall: number[] = []
  const cpu: number[] = []
  let rows: unknown[] = []
  for (let i = 0; i <= RUNS; i++) {
    const m = await timeQuery<unknown>(bench, sql, params)
    rows = m.rows
    if (i > 0) {
      wall.push(m.wall)
      cpu.push(m.cpu)
    }
  }
  return { wall: median(wall), cpu: median(cpu), rows }
}
for (const [label, at] of [
  ['END', END],
  ['now', END + 8 * DAY],
] as const) {
  const params = full(at).params
  for (const [name, sql0] of parts) {
    if (only && !only.test(name)) continue
    const sql = name.startsWith('whole counts query, full')
      ? statusQuery(at)
      : name.startsWith('whole counts query, status-only')
        ? statusQuery(at, true)
        : name.startsWith('status-only: join only')
          ? `SELECT count() FROM (${full(at, true).sql})`
          : sql0
    const m = await measure(sql, params)
    const result = JSON.stringify(m.rows).slice(0, 200)
    console.log(`${label.padEnd(4)} ${name.padEnd(48)} ${m.wall.toFixed(0).padStart(6)} ms ${m.cpu.toFixed(0).padStart(6)} cpu  ${result}`)
  }
}
// The counts query, full variant against status-only, on the instants and scopes bench/engagement-dump.ts asks.
const promotion = Array.from({ length: 60 }, (_, c) => `p-${c}`)
const newsletter = Array.from({ length: 30 }, (_, c) => `p-${60 + c}`)
const scopes: Array<[string, Parameters<typeof engagementStatusSql>[1]]> = [
  ['END', { at: END, thresholds: DEFAULT_THRESHOLDS }],
  ['now', { at: END + 8 * DAY, thresholds: DEFAULT_THRESHOLDS }],
  ['mid 10/40/2', { at: Date.parse('2026-11-03T13:17:00Z'), thresholds: { activeDays: 10, inactiveDays: 40, minSends: 2 } }],
  ['promotion END', { at: END, thresholds: DEFAULT_THRESHOLDS, campaigns: promotion }],
  ['newsletter past', { at: Date.parse('2026-11-27T06:00:00Z'), thresholds: DEFAULT_THRESHOLDS, campaigns: newsletter }],
]
for (const [label, scope] of scopes) {
  for (const statusOnly of [false, true]) {
    const name = `counts ${label} ${statusOnly ? 'status-only' : 'full'}`
    if (only && !only.test(name)) continue
    const q = engagementStatusSql(db, scope, { statusOnly })
    const m = await measure(`SELECT status, count() AS n FROM (${q.sql}) GROUP BY status ORDER BY status`, q.params)
    const result = JSON.stringify((m.rows as Array<{ n: unknown }>).map((r) => Number(r.n)))
    console.log(`${name.padEnd(53)} ${m.wall.toFixed(0).padStart(6)} ms ${m.cpu.toFixed(0).padStart(6)} cpu  ${result}`)
  }
}
await bench.stop()
