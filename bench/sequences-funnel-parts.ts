/**
 * Where the sequence funnel's time goes: the parts of its two ClickHouse queries
 * (src/metrics/sequence-funnel.ts), each alone, on the data bench/sequences.ts built (DATA_DIR).
 * Prints wall and CPU ms (this process: chDB runs in it) per part and run; BENCH_RUNS runs (3).
 *   DATA_DIR=/work/benchdata/sequences npx tsx bench/sequences-funnel-parts.ts
 */
import { RECIPIENT_KEY as K, trafficAggregate } from '../src/metrics/sql.js'
import { startParts, timeQuery } from './lib/parts.js'

const { bench, db, runs: RUNS, only } = await startParts('sequences', 'BENCH_ONLY')
const params = { c: ['s1', 's2', 's3', 's4'].map((s) => `bench-seq-${s}`) }
const cohort = `toString(toDate(toMonday(entered_at)))`
const sends = (final: string) =>
  `SELECT ${cohort} AS cohort, step_id, recipient_id, ${K} AS h, toUnixTimestamp64Milli(sent_at) AS sent_ms FROM ${db}.sequence_sends ${final} WHERE sequence_id = 'bench-seq'`
const clickers = `SELECT ${K} AS h, min(ts) AS first_click, 1 AS clicker FROM ${db}.events
  WHERE campaign_id IN {c:Array(String)} AND type = 'click' AND class = 'human' AND recipient_id != '' GROUP BY h`
const conversions = `SELECT recipient_id, arraySort(groupArray(toUnixTimestamp64Milli(ts))) AS convs FROM ${db}.events
  WHERE type = 'conversion' AND token_valid AND recipient_id != '' AND JSONExtractString(extra, 'kind') IN ('purchase', '') GROUP BY recipient_id`
const openers = `SELECT ${K} FROM ${db}.events WHERE campaign_id IN {c:Array(String)} AND type = 'open' AND class = 'human' AND recipient_id != ''`
const withClickers = (join: string) => `SELECT cohort, step_id, count(), countIf(clicker = 1), quantileExactIf(0.5)(toUnixTimestamp64Milli(first_click) - sent_ms, clicker = 1)
  FROM (SELECT s.cohort AS cohort, s.step_id AS step_id, s.sent_ms AS sent_ms, f.first_click AS first_click, f.clicker AS clicker
        FROM (${sends('FINAL')}) AS s ${join} (${clickers}) AS f ON f.h = s.h) GROUP BY cohort, step_id`
const withConversions = (join: string) =>
  `SELECT cohort, step_id, count(), countIf(length(c.convs) > 0) FROM (${sends('FINAL')}) AS s ${join} (${conversions}) AS c ON c.recipient_id = s.recipient_id GROUP BY cohort, step_id`

const factsProjection = `SELECT ${K} AS h, ${trafficAggregate('count', 'human', 'open')} AS o, ${trafficAggregate('count', 'human', 'click')} AS k,
    ${trafficAggregate('count', 'human', 'unsubscribe')} AS u, ${trafficAggregate('min', 'human', 'click')} AS fc
  FROM ${db}.events WHERE campaign_id IN {c:Array(String)} AND recipient_id != '' GROUP BY h HAVING o > 0 OR k > 0 OR u > 0`
const factsEvents = `SELECT ${K} AS h, countIf(type = 'open') AS o, countIf(type = 'click') AS k, countIf(type = 'unsubscribe') AS u, minIf(ts, type = 'click') AS fc
  FROM ${db}.events WHERE campaign_id IN {c:Array(String)} AND type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != '' GROUP BY h`
const conversionsByHash = conversions.replace('SELECT recipient_id,', 'SELECT cityHash64(recipient_id) AS rh,')
const convAt = `arrayFirst(x -> x >= greatest(sent_ms, entered_ms) AND x <= entered_ms + 2592000000, c.convs)`
const sendsFull = `SELECT ${cohort} AS cohort, step_id, recipient_id, ${K} AS h, cityHash64(recipient_id) AS rh, toUnixTimestamp64Milli(sent_at) AS sent_ms, toUnixTimestamp64Milli(entered_at) AS entered_ms FROM ${db}.sequence_sends FINAL WHERE sequence_id = 'bench-seq'`
const stepsSeventh = `SELECT cohort, step_id, count(), countIf(h IN (${openers})), countIf(clicker = 1), countIf(h IN (${openers.replace("'open'", "'unsubscribe'")})), countIf(conv_at > 0),
    quantileExactIf(0.5)(toUnixTimestamp64Milli(first_click) - sent_ms, clicker = 1), quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0)
  FROM (SELECT s.cohort AS cohort, s.step_id AS step_id, s.h AS h, s.sent_ms AS sent_ms, s.entered_ms AS entered_ms, f.first_click AS first_click, f.clicker AS clicker, ${convAt} AS conv_at
        FROM (${sendsFull}) AS s LEFT JOIN (${clickers}) AS f ON f.h = s.h LEFT JOIN (${conversions}) AS c ON c.recipient_id = s.recipient_id)
  GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`
const stepsOneJoin = (facts: string) => `SELECT cohort, step_id, count(), countIf(o > 0), countIf(k > 0), countIf(u > 0), countIf(conv_at > 0),
    quantileExactIf(0.5)(toUnixTimestamp64Milli(fc) - sent_ms, k > 0), quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0)
  FROM (SELECT s.cohort AS cohort, s.step_id AS step_id, s.sent_ms AS sent_ms, s.entered_ms AS entered_ms, f.o AS o, f.k AS k, f.u AS u, f.fc AS fc, ${convAt} AS conv_at
        FROM (${sendsFull}) AS s LEFT ANY JOIN (${facts}) AS f ON f.h = s.h LEFT ANY JOIN (${conversionsByHash}) AS c ON c.rh = s.rh)
  GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`

const factsRows = `SELECT ${cohort} AS cohort, step_id, cityHash64(recipient_id) AS rh, toUnixTimestamp64Milli(sent_at) AS sent_ms, toUnixTimestamp64Milli(entered_at) AS entered_ms,
    has({c:Array(String)}, campaign_id) AND human_open = 1 AS o, has({c:Array(String)}, campaign_id) AND human_unsubscribe = 1 AS u, if(has({c:Array(String)}, campaign_id), human_click, 0) AS fc
  FROM ${db}.sequence_send_facts FINAL WHERE sequence_id = 'bench-seq'`
const stepsFacts = `SELECT cohort, step_id, count(), countIf(o), countIf(fc > 0), countIf(u), countIf(conv_at > 0),
    quantileExactIf(0.5)(fc - sent_ms, fc > 0), quantileExactIf(0.5)(conv_at - entered_ms, conv_at > 0)
  FROM (SELECT s.cohort AS cohort, s.step_id AS step_id, s.sent_ms AS sent_ms, s.entered_ms AS entered_ms, s.o AS o, s.u AS u, s.fc AS fc, ${convAt} AS conv_at
        FROM (${factsRows}) AS s LEFT ANY JOIN (${conversionsByHash}) AS c ON c.rh = s.rh)
  GROUP BY GROUPING SETS ((cohort, step_id), (step_id))`

const parts: Array<[string, string]> = [
  ['sends FINAL, count per step', `SELECT step_id, count() FROM ${db}.sequence_sends FINAL WHERE sequence_id = 'bench-seq' GROUP BY step_id`],
  ['sends FINAL, count per cohort (Date) and step', `SELECT toString(cohort), step_id, count() FROM (SELECT toDate(toMonday(entered_at)) AS cohort, step_id FROM ${db}.sequence_sends FINAL WHERE sequence_id = 'bench-seq') GROUP BY cohort, step_id`],
  ['sends FINAL, count per cohort (String) and step', `SELECT cohort, step_id, count() FROM (${sends('FINAL')}) GROUP BY cohort, step_id`],
  ['sends without FINAL, same', `SELECT cohort, step_id, count() FROM (${sends('')}) GROUP BY cohort, step_id`],
  ['human openers of the four campaigns (set)', `SELECT count() FROM (SELECT DISTINCT h FROM (${openers.replace(K, `${K} AS h`)}))`],
  ['clickers with their first click', `SELECT count() FROM (${clickers})`],
  ['conversions per recipient', `SELECT count() FROM (${conversions})`],
  ['sends FINAL + opened (IN the set)', `SELECT cohort, step_id, count(), countIf(h IN (${openers})) FROM (${sends('FINAL')}) GROUP BY cohort, step_id`],
  ['sends FINAL + clickers (LEFT JOIN)', withClickers('LEFT JOIN')],
  ['sends FINAL + clickers (LEFT ANY JOIN)', withClickers('LEFT ANY JOIN')],
  ['sends FINAL + conversions (LEFT JOIN)', withConversions('LEFT JOIN')],
  ['sends FINAL + conversions (LEFT ANY JOIN)', withConversions('LEFT ANY JOIN')],
  // The steps query split: the counts by set membership in one pass, the medians from the sends of clickers and buyers only.
  ['split: sends FINAL + opened, clicked, unsubscribed (IN sets)', `SELECT cohort, step_id, count(), countIf(h IN (${openers})), countIf(h IN (SELECT h FROM (${clickers}))), countIf(h IN (${openers.replace("'open'", "'unsubscribe'")})) FROM (${sends('FINAL')}) GROUP BY cohort, step_id`],
  ['split: the clickers\' sends joined to their first click', `SELECT cohort, step_id, quantileExact(0.5)(toUnixTimestamp64Milli(f.first_click) - s.sent_ms) FROM (${sends('FINAL')} AND h IN (SELECT h FROM (${clickers}))) AS s JOIN (${clickers}) AS f ON f.h = s.h GROUP BY cohort, step_id`],
  ['split: the buyers\' sends joined to their conversions', `SELECT cohort, step_id, count() FROM (${sends('FINAL')} AND recipient_id IN (SELECT recipient_id FROM (${conversions}))) AS s JOIN (${conversions}) AS c ON c.recipient_id = s.recipient_id GROUP BY cohort, step_id`],
  // Eighth session: the facts of each (campaign, recipient) in one row (open, click, unsubscribe together), from the
  // projection p_recipient_traffic (its aggregates spelled as trafficAggregate spells them) or from the events narrowed
  // by (campaign, type) and class; the steps query as the seventh session left it and with one join to those facts.
  ['facts per (campaign, recipient) from p_recipient_traffic', `SELECT count() FROM (${factsProjection})`],
  ['facts per (campaign, recipient) from events (type, class)', `SELECT count() FROM (${factsEvents})`],
  ['steps query: three probes (seventh session)', stepsSeventh],
  ['steps query: three probes, conversions by hash', stepsSeventh.replace(`LEFT JOIN (${conversions}) AS c ON c.recipient_id = s.recipient_id`, `LEFT ANY JOIN (${conversionsByHash}) AS c ON c.rh = s.rh`)],
  ['steps query: one join to the facts (events)', stepsOneJoin(factsEvents)],
  ['steps query: one join to the facts (projection)', stepsOneJoin(factsProjection)],
  // Ninth session: the sends' rows of sequence_send_facts (migration 3300), each with its recipient's opens, clicks
  // and unsubscribes of its campaign: the steps query without probes or joins to the engagers, and its parts.
  ['facts FINAL, count per cohort and step', `SELECT cohort, step_id, count() FROM (${factsRows}) GROUP BY cohort, step_id`],
  ['facts FINAL, opened, clicked, unsubscribed, click median', `SELECT cohort, step_id, count(), countIf(o), countIf(fc > 0), countIf(u), quantileExactIf(0.5)(fc - sent_ms, fc > 0) FROM (${factsRows}) GROUP BY cohort, step_id`],
  ['steps query: facts + conversions (ninth session)', stepsFacts],
  ['steps query: facts + conversions, the buyers\' sends alone joined', stepsFacts.replace(`FROM (${factsRows}) AS s LEFT ANY JOIN (${conversionsByHash}) AS c ON c.rh = s.rh`,
    `FROM (${factsRows} AND rh NOT IN (SELECT rh FROM (${conversionsByHash}))) AS s LEFT ANY JOIN (SELECT 0 AS rh, [] :: Array(Int64) AS convs) AS c ON c.rh = s.rh
     UNION ALL SELECT s.cohort AS cohort, s.step_id AS step_id, s.sent_ms AS sent_ms, s.entered_ms AS entered_ms, s.o AS o, s.u AS u, s.fc AS fc, ${convAt} AS conv_at
     FROM (${factsRows} AND rh IN (SELECT rh FROM (${conversionsByHash}))) AS s ANY JOIN (${conversionsByHash}) AS c ON c.rh = s.rh`)],
  ['steps query: facts + conversions, cohort a Date through the join', stepsFacts.replace('SELECT cohort, step_id, count()', 'SELECT toString(cohort), step_id, count()').replace(`SELECT ${cohort} AS cohort, step_id, cityHash64`, 'SELECT toDate(toMonday(entered_at)) AS cohort, step_id, cityHash64')],
  ['steps query: facts, no conversions', stepsFacts.replace(`LEFT ANY JOIN (${conversionsByHash}) AS c ON c.rh = s.rh`, '').replace(convAt, '0')],
  ['entries FINAL per cohort and state', `SELECT ${cohort} AS cohort, status, exit_reason, exit_step_id, count() FROM ${db}.sequence_enrollments FINAL WHERE sequence_id = 'bench-seq' GROUP BY cohort, status, exit_reason, exit_step_id`],
]
console.log(`${'part'.padEnd(50)} ${'run'.padStart(3)} ${'wall ms'.padStart(8)} ${'cpu ms'.padStart(8)}`)
for (let run = 0; run < RUNS; run++) {
  for (const [name, query] of parts) {
    if (only && !only.test(name)) continue
    const m = await timeQuery(bench, query, params)
    console.log(`${name.padEnd(50)} ${String(run).padStart(3)} ${m.wall.toFixed(0).padStart(8)} ${m.cpu.toFixed(0).padStart(8)}`)
  }
}
await bench.stop()
process.exit(0)
