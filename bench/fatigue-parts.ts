/**
 * Where the fatigue curve's time goes: the parts of its query (src/metrics/pressure.ts, fatigueCurve),
 * each alone, on the data bench/pressure.ts built (DATA_DIR), over every campaign (no category).
 * Prints wall and CPU ms (this process: chDB runs in it) per part and run; BENCH_RUNS runs (3),
 * BENCH_PARTS a regular expression choosing parts.
 *   DATA_DIR=/work/benchdata/pressure npx tsx bench/fatigue-parts.ts
 */
import { attributedConversionsManySql } from '../src/metrics/attribution.js'
import { trafficAggregate } from '../src/metrics/sql.js'
import { listCampaigns } from '../src/services/campaigns.js'
import { startParts, timeQuery } from './lib/parts.js'

const { bench, db, runs: RUNS, only } = await startParts('pressure', 'BENCH_PARTS')
const DAY = 86_400_000
const to = Date.parse('2026-11-30T00:00:00Z')
const from = to - 90 * DAY
const windowMs = 30 * DAY
const campaigns = (await listCampaigns(bench.deps, { limit: 1000, offset: 0 })).map((c) => c.id)
const conv = attributedConversionsManySql(db, {})
const params = { ...conv.params, dbName: db, campaigns, ones: campaigns.map(() => 1), lows: [0, 2, 4, 7], windowS: windowMs / 1000, at: to - 1, since: from - windowMs, from, to }

const sendsSide = (filter: string) => `
  SELECT cityHash64(c, recipient_id) AS h, sent, prior FROM (
    SELECT recipient_id, ts, cs, arrayMap(t -> intDiv(t, 1000), ts) AS secs,
           arrayMap(x -> arrayCount(y -> y >= x - {windowS:UInt32} AND y < x, secs), secs) AS priors
    FROM (
      SELECT recipient_id,
             arrayFilter((t, c) -> t >= {since:Int64} AND t <= {at:Int64}${filter}, sends.2, sends.1) AS ts,
             arrayFilter((c, t) -> t >= {since:Int64} AND t <= {at:Int64}${filter}, sends.1, sends.2) AS cs
      FROM ${db}.recipient_sends FINAL
    )
    WHERE notEmpty(ts)
  ) ARRAY JOIN ts AS sent, cs AS c, priors AS prior`
const has = ' AND has({campaigns:Array(String)}, c)'
const outcomes = `SELECT cityHash64(campaign_id, recipient_id) AS h,
    ${trafficAggregate('count', 'human', 'open')} AS opens,
    ${trafficAggregate('count', 'human', 'click')} AS clicks,
    ${trafficAggregate('count', 'human', 'unsubscribe')} AS unsubscribes
  FROM ${db}.events WHERE campaign_id IN {campaigns:Array(String)} AND recipient_id != '' GROUP BY h`
const bucketOf = `arrayCount(l -> prior >= l, {lows:Array(UInt32)}) - 1`

// The new query's sends side: per recipient, the sends in time order, each one's bucket by shifting
// (src/metrics/pressure.ts), codes counted after an ARRAY JOIN of one small integer per send.
const none = 'toInt64(-9223372036854775807)'
// recipient_engagement's campaign ids as the query reads them: without FINAL, split recipients concatenated.
const split = `SELECT recipient_id FROM ${db}.recipient_engagement GROUP BY recipient_id HAVING count() > 1`
const engagementKeys = `SELECT recipient_id, opens.1 AS o, clicks.1 AS k, unsubscribes.1 AS u FROM ${db}.recipient_engagement WHERE recipient_id NOT IN (${split})
  UNION ALL SELECT recipient_id, groupArrayArray(opens.1), groupArrayArray(clicks.1), groupArrayArray(unsubscribes.1) FROM ${db}.recipient_engagement
  WHERE recipient_id IN (${split}) GROUP BY recipient_id`
const shifted = (filter: string, bits: string) => `
  SELECT code, count() FROM (
    SELECT arrayMap((t, c) -> t >= {since:Int64} AND t <= {at:Int64}${filter}, s.sends.2, s.sends.1) AS keep,
           arrayFilter((t, k) -> k, s.sends.2, keep) AS ts0, arrayFilter((c, k) -> k, s.sends.1, keep) AS cs0,
           ${bits} AS bits0,
           arraySort(ts0) AS ts, arraySort((b, t) -> t, bits0, ts0) AS bits, arrayMap(t -> intDiv(t, 1000), ts) AS secs,
           arrayMap((x, y) -> x != y, secs, arrayShiftRight(secs, 1, ${none})) AS firsts,
           arrayFill((g, f) -> f, arrayMap((x, y1, y2, y3) -> (y1 >= x - {windowS:Int64}) + (y2 >= x - {windowS:Int64}) + (y3 >= x - {windowS:Int64}),
             secs, arrayShiftRight(secs, 2, ${none}), arrayShiftRight(secs, 4, ${none}), arrayShiftRight(secs, 7, ${none})), firsts) AS reached,
           arrayMap((t, r, b) -> if(t >= {from:Int64} AND t < {to:Int64}, (r + 1) * 16 + b, 0), ts, reached, bits) AS codes
    FROM (SELECT recipient_id, sends FROM ${db}.recipient_sends FINAL) AS s
    ${bits.includes('e.') ? `LEFT JOIN (${engagementKeys}) AS e ON e.recipient_id = s.recipient_id` : ''}
  ) ARRAY JOIN codes AS code WHERE code > 0 GROUP BY code ORDER BY code`
const uniq = (a: string) => `arraySlice(arrayEnumerateUniq(arrayConcat(${a}, cs0)), length(${a}) + 1)`
const outcomeBits = `arrayMap((a, b, c) -> (a > 1) + 2 * (b > 1) + 4 * (c > 1), ${uniq('e.o')}, ${uniq('e.k')}, ${uniq('e.u')})`
// The ninth session's query (keys and campaign ids hashed to UInt64), with parts taken out: what is
// left when the engagement side, the conversions side or the outcome lookups are gone.
// hash false: the eighth session's query (c4ac9dc), strings throughout.
const ninth = (o: { eng?: boolean; conv?: boolean; bits?: boolean; hash?: boolean }) => {
  const hashed = (ids: string) => (o.hash === false ? ids : `arrayMap(c -> cityHash64(c), ${ids})`)
  const key = o.hash === false ? 'recipient_id' : 'cityHash64(recipient_id)'
  const empty = o.hash === false ? '[]::Array(String)' : '[]::Array(UInt64)'
  const [eo, ek, eu] = o.eng === false ? [empty, empty, empty] : ['e.o', 'e.k', 'e.u']
  const vc = o.conv === false ? empty : 'v.campaigns'
  const uq = (a: string) => `arraySlice(arrayEnumerateUniq(arrayConcat(${a}, cs0)), length(${a}) + 1)`
  const bits = o.bits === false ? 'arrayMap(c -> 0, cs0)' : `arrayMap((a, b, c, d) -> (a > 1) + 2 * (b > 1) + 4 * (c > 1) + 8 * (d > 1), ${uq(eo)}, ${uq(ek)}, ${uq(eu)}, ${uq(vc)})`
  return `WITH ${conv.sql},
    converted AS (SELECT ${key} AS rk, groupUniqArray(${hashed('[for_campaign]')}[1]) AS campaigns FROM attributed WHERE recipient_id != '' GROUP BY recipient_id),
    split AS (SELECT recipient_id FROM ${db}.recipient_engagement GROUP BY recipient_id HAVING count() > 1)
    SELECT code, count() FROM (
      SELECT arrayMap((t, c) -> t >= {since:Int64} AND t <= {at:Int64}, s.sends.2, s.sends.1) AS keep,
             arrayFilter((t, k) -> k, s.sends.2, keep) AS ts0, ${hashed('arrayFilter((c, k) -> k, s.sends.1, keep)')} AS cs0,
             ${bits} AS bits0,
             arraySort(ts0) AS ts, arraySort((b, t) -> t, bits0, ts0) AS bits, arrayMap(t -> intDiv(t, 1000), ts) AS secs,
             arrayMap((x, y) -> x != y, secs, arrayShiftRight(secs, 1, ${none})) AS firsts,
             arrayFill((g, f) -> f, arrayMap((x, y1, y2, y3) -> (y1 >= x - {windowS:Int64}) + (y2 >= x - {windowS:Int64}) + (y3 >= x - {windowS:Int64}),
               secs, arrayShiftRight(secs, 2, ${none}), arrayShiftRight(secs, 4, ${none}), arrayShiftRight(secs, 7, ${none})), firsts) AS reached,
             arrayMap((t, r, b) -> if(t >= {from:Int64} AND t < {to:Int64}, (r + 1) * 16 + b, 0), ts, reached, bits) AS codes
      FROM (SELECT ${key} AS rk, sends FROM ${db}.recipient_sends FINAL) AS s
      ${o.eng === false ? '' : `LEFT JOIN (
        SELECT ${key} AS rk, ${hashed('opens.1')} AS o, ${hashed('clicks.1')} AS k, ${hashed('unsubscribes.1')} AS u
        FROM ${db}.recipient_engagement WHERE recipient_id NOT IN split
        UNION ALL
        SELECT ${key}, ${hashed('groupArrayArray(opens.1)')}, ${hashed('groupArrayArray(clicks.1)')}, ${hashed('groupArrayArray(unsubscribes.1)')}
        FROM ${db}.recipient_engagement WHERE recipient_id IN split GROUP BY recipient_id) AS e ON e.rk = s.rk`}
      ${o.conv === false ? '' : 'LEFT JOIN converted AS v ON v.rk = s.rk'}
    ) ARRAY JOIN codes AS code WHERE code > 0 GROUP BY code ORDER BY code`
}
// The tenth session's query (src/metrics/pressure.ts): recipient_send_outcomes (migration 3600) holds
// each recipient's sends in time order with their outcome bits; only the conversions are joined.
const tenth = (o: { conv?: boolean; final?: boolean; dedup?: boolean }) => `WITH ${conv.sql},
    converted AS (SELECT cityHash64(recipient_id) AS rk, groupUniqArray(cityHash64(for_campaign)) AS campaigns FROM attributed WHERE recipient_id != '' GROUP BY recipient_id),
    dup AS (SELECT rk, max(version) AS v FROM ${db}.recipient_send_outcomes GROUP BY rk HAVING count() > 1)
    SELECT code, count() FROM (
      SELECT arrayMap(t -> t >= {since:Int64} AND t <= {at:Int64}, f.sent) AS keep,
             arrayFilter((t, k) -> k, f.sent, keep) AS ts, arrayFilter((b, k) -> k, f.bits, keep) AS bits0,
             ${o.conv === false ? 'bits0' : `if(empty(v.campaigns), bits0, arrayMap((b, d) -> b + 8 * (d > 1), bits0,
               arraySlice(arrayEnumerateUniq(arrayConcat(v.campaigns, arrayFilter((c, k) -> k, f.campaigns, keep))), length(v.campaigns) + 1)))`} AS bits,
             arrayMap(t -> intDiv(t, 1000), ts) AS secs,
             arrayMap((x, y) -> x != y, secs, arrayShiftRight(secs, 1, ${none})) AS firsts,
             arrayFill((g, f) -> f, arrayMap((x, y1, y2, y3) -> (y1 >= x - {windowS:Int64}) + (y2 >= x - {windowS:Int64}) + (y3 >= x - {windowS:Int64}),
               secs, arrayShiftRight(secs, 2, ${none}), arrayShiftRight(secs, 4, ${none}), arrayShiftRight(secs, 7, ${none})), firsts) AS reached,
             arrayMap((t, r, b) -> if(t >= {from:Int64} AND t < {to:Int64}, (r + 1) * 16 + b, 0), ts, reached, bits) AS codes
      FROM (SELECT rk, sent, campaigns, bits FROM ${db}.recipient_send_outcomes${o.dedup ? ` WHERE rk NOT IN (SELECT rk FROM dup) OR (rk, version) IN (SELECT rk, v FROM dup)` : o.final === false ? '' : ' FINAL'}) AS f
      ${o.conv === false ? '' : 'LEFT JOIN converted AS v ON v.rk = f.rk'}
    ) ARRAY JOIN codes AS code WHERE code > 0 GROUP BY code ORDER BY code`
const plainEngagement = `SELECT recipient_id, opens.1 AS o, clicks.1 AS k, unsubscribes.1 AS u FROM ${db}.recipient_engagement`
const parts: Array<[string, string]> = [
  // The query before (commit 385ddbb), part by part.
  ['recipient_sends FINAL, count', `SELECT count() FROM ${db}.recipient_sends FINAL`],
  ['sends side, has() over every id', `SELECT ${bucketOf} AS b, count() FROM (${sendsSide(has)}) WHERE sent >= {from:Int64} AND sent < {to:Int64} GROUP BY b`],
  ['sends side, no campaign filter', `SELECT ${bucketOf} AS b, count() FROM (${sendsSide('')}) WHERE sent >= {from:Int64} AND sent < {to:Int64} GROUP BY b`],
  ['sends side, transform() lookup', `SELECT ${bucketOf} AS b, count() FROM (${sendsSide(' AND transform(c, {campaigns:Array(String)}, {ones:Array(UInt8)}, 0) = 1')}) WHERE sent >= {from:Int64} AND sent < {to:Int64} GROUP BY b`],
  ['outcomes per (campaign, recipient), count', `SELECT count() FROM (${outcomes})`],
  ['sends (has) LEFT JOIN outcomes', `SELECT ${bucketOf} AS b, count(), countIf(f.opens > 0), countIf(f.clicks > 0), countIf(f.unsubscribes > 0)
     FROM (${sendsSide(has)}) AS s LEFT JOIN (${outcomes}) AS f ON f.h = s.h WHERE s.sent >= {from:Int64} AND s.sent < {to:Int64} GROUP BY b`],
  ['conversions attributed, count', `WITH ${conv.sql} SELECT count() FROM attributed`],
  // The query after, part by part.
  ['after: sends side alone (IN)', shifted(' AND c IN {campaigns:Array(String)}', 'arrayMap(c -> 0, cs0)')],
  ['after: sends side alone (no filter)', shifted('', 'arrayMap(c -> 0, cs0)')],
  ['after: recipient_engagement ids read with FINAL', `SELECT sum(length(o)), sum(length(k)), sum(length(u)) FROM (SELECT opens.1 AS o, clicks.1 AS k, unsubscribes.1 AS u FROM ${db}.recipient_engagement FINAL)`],
  ['after: recipient_engagement ids read as the query', `SELECT sum(length(o)), sum(length(k)), sum(length(u)) FROM (${engagementKeys})`],
  ['after: sends joined to engagement ids, count', `SELECT count(), sum(length(e.o)) FROM ${db}.recipient_sends AS s FINAL LEFT JOIN (${engagementKeys}) AS e ON e.recipient_id = s.recipient_id`],
  ['after: sends joined to engagement, outcome bits', shifted('', outcomeBits)],
  // The ninth session.
  ['eighth: the query (every campaign, c4ac9dc)', ninth({ hash: false })],
  ['ninth: the query (every campaign)', ninth({})],
  ['ninth: without the outcome lookups', ninth({ bits: false })],
  ['ninth: without the engagement side', ninth({ eng: false })],
  ['ninth: without engagement and conversions', ninth({ eng: false, conv: false })],
  ['ninth: join on strings, hash, count', `SELECT count(), sum(length(e.o)) FROM ${db}.recipient_sends AS s FINAL LEFT JOIN (${plainEngagement}) AS e ON e.recipient_id = s.recipient_id`],
  ['ninth: join on strings, full_sorting_merge, count', `SELECT count(), sum(length(e.o)) FROM ${db}.recipient_sends AS s FINAL LEFT JOIN (${plainEngagement}) AS e ON e.recipient_id = s.recipient_id SETTINGS join_algorithm = 'full_sorting_merge'`],
  // The tenth session.
  ['tenth: outcomes parts', `SELECT count() AS parts, sum(rows) AS rows FROM system.parts WHERE database = {dbName:String} AND table = 'recipient_send_outcomes' AND active`],
  ['tenth: outcomes FINAL, arrays read', `SELECT sum(arraySum(sent) % 1000), sum(arraySum(campaigns) % 1000), sum(arraySum(bits)) FROM ${db}.recipient_send_outcomes FINAL`],
  ['tenth: outcomes FINAL per partition, arrays read', `SELECT sum(arraySum(sent) % 1000), sum(arraySum(campaigns) % 1000), sum(arraySum(bits)) FROM ${db}.recipient_send_outcomes FINAL SETTINGS do_not_merge_across_partitions_select_final = 1`],
  ['tenth: outcomes, arrays read without FINAL', `SELECT sum(arraySum(sent) % 1000), sum(arraySum(campaigns) % 1000), sum(arraySum(bits)) FROM ${db}.recipient_send_outcomes`],
  ['tenth: the query (every campaign)', tenth({})],
  ['tenth: without the conversions', tenth({ conv: false })],
  ['tenth: without FINAL', tenth({ final: false })],
  ['tenth: without FINAL and conversions', tenth({ conv: false, final: false })],
  ['tenth: without conversions, duplicates dropped by GROUP BY', tenth({ conv: false, dedup: true })],
  ['tenth: without conversions, FINAL per partition', `${tenth({ conv: false })} SETTINGS do_not_merge_across_partitions_select_final = 1`],
  ['tenth: converted recipients, count', `WITH ${conv.sql} SELECT count() FROM (SELECT DISTINCT recipient_id FROM attributed WHERE recipient_id != '')`],
]
console.log(`campaigns: ${campaigns.length}`)
console.log(`${'part'.padEnd(50)} ${'run'.padStart(3)} ${'wall ms'.padStart(8)} ${'cpu ms'.padStart(8)}`)
for (let run = 0; run < RUNS; run++) {
  for (const [name, query] of parts) {
    if (only && !only.test(name)) continue
    const m = await timeQuery<unknown>(bench, query, params)
    console.log(`${name.padEnd(50)} ${String(run).padStart(3)} ${m.wall.toFixed(0).padStart(8)} ${m.cpu.toFixed(0).padStart(8)}${run === 0 ? '  ' + JSON.stringify(m.rows).slice(0, 160) : ''}`)
  }
}
await bench.stop()
process.exit(0)
