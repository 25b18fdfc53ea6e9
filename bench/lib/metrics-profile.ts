/*
 * Times raw SQL variants on a data set made by bench/metrics.ts (DATA_DIR kept), to choose
 * between query shapes before changing a metrics module:
 *
 *   DATA_DIR=/tmp/bench-metrics npx tsx bench/lib/metrics-profile.ts
 */
import { join } from 'node:path'
import { createEventStore } from '../../src/store/clickhouse.js'

const dir = process.env.DATA_DIR ?? '/tmp/bench-metrics'
const store = createEventStore({ database: process.env.CLICKHOUSE_DATABASE ?? 'sillage', path: join(dir, 'clickhouse') })
const db = store.db
const c = process.env.PROFILE_CAMPAIGN ?? 'bench-3'

const variants: Record<string, string> = {
  sent_final: `SELECT count() FROM ${db}.sends FINAL WHERE campaign_id = {c:String}`,
  agg_string_uniq: `SELECT countIf(type='open'), uniqExactIf(recipient_id, type='open' AND recipient_id!=''), uniqExactIf(recipient_id, type='click' AND recipient_id!=''), uniqExactIf(recipient_id, type IN ('open','click') AND recipient_id!='') FROM ${db}.events WHERE campaign_id = {c:String} AND class='human'`,
  agg_hash_uniq: `SELECT countIf(type='open'), uniqExactIf(cityHash64(recipient_id), type='open' AND recipient_id!=''), uniqExactIf(cityHash64(recipient_id), type='click' AND recipient_id!=''), uniqExactIf(cityHash64(recipient_id), type IN ('open','click') AND recipient_id!='') FROM ${db}.events WHERE campaign_id = {c:String} AND class='human'`,
  facts_group_string: `SELECT count() FROM (SELECT recipient_id, countIf(type='open') o, minIf(ts, type='open') fo FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class='human' GROUP BY recipient_id)`,
  facts_with_links: `SELECT count() FROM (SELECT recipient_id, countIf(type='open') o, minIf(ts, type='open') fo, groupUniqArrayIf(link_id, type='click') l FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class='human' GROUP BY recipient_id)`,
  facts_join_sends: `SELECT count(), quantileExactInclusive(0.5)(toUnixTimestamp64Milli(f.fo) - toUnixTimestamp64Milli(s.sent_at)) FROM (SELECT recipient_id, minIf(ts, type='open') fo FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class='human' GROUP BY recipient_id) f INNER JOIN (SELECT recipient_id, sent_at FROM ${db}.sends FINAL WHERE campaign_id = {c:String}) s USING recipient_id`,
  sends_left_join_facts: `SELECT count(), countIf(f.o > 0) FROM (SELECT recipient_id, variant AS key FROM ${db}.sends FINAL WHERE campaign_id = {c:String}) s LEFT JOIN (SELECT recipient_id, countIf(type='open') o FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class='human' GROUP BY recipient_id) f USING recipient_id GROUP BY key`,
  sends_join_facts_delay: `SELECT count(), quantileExactInclusive(0.5)(toUnixTimestamp64Milli(f.fo) - toUnixTimestamp64Milli(s.sent_at)) FROM (SELECT recipient_id, sent_at FROM ${db}.sends FINAL WHERE campaign_id = {c:String}) s INNER JOIN (SELECT recipient_id, minIf(ts, type='open') fo FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class='human' GROUP BY recipient_id) f USING recipient_id`,
  facts_group_hash: `SELECT count() FROM (SELECT cityHash64(recipient_id) h, countIf(type='open') o, minIf(ts, type='open') fo FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class='human' GROUP BY h)`,
  facts_two_level: `SELECT count() FROM (SELECT campaign_id, recipient_id, sumIf(n, type='open') o, minIf(first, type='open') fo FROM (SELECT campaign_id, recipient_id, type, count() AS n, min(ts) AS first FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class = 'human' GROUP BY campaign_id, recipient_id, type, class) GROUP BY campaign_id, recipient_id)`,
  facts_two_level_noproj: `SELECT count() FROM (SELECT campaign_id, recipient_id, sumIf(n, type='open') o, minIf(first, type='open') fo FROM (SELECT campaign_id, recipient_id, type, count() AS n, min(ts) AS first FROM ${db}.events WHERE campaign_id = {c:String} AND type IN ('open','click') AND recipient_id != '' AND class = 'human' GROUP BY campaign_id, recipient_id, type, class) GROUP BY campaign_id, recipient_id) SETTINGS optimize_use_projections = 0`,
  scan_count: `SELECT count() FROM ${db}.events WHERE campaign_id = {c:String}`,
  parts: `SELECT table, count(), sum(rows) FROM system.parts WHERE database = '${db}' AND active GROUP BY table`,
}

const only = process.env.PROFILE_ONLY ? new RegExp(process.env.PROFILE_ONLY) : null
for (const [name, sql] of Object.entries(variants)) {
  if (only && !only.test(name)) continue
  const times: number[] = []
  let out = ''
  for (let i = 0; i < 7; i++) {
    const t = performance.now()
    const rs = await store.client.query({ query: sql, query_params: { c }, format: 'JSONCompactEachRow' })
    out = JSON.stringify(await rs.json())
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  console.log(`${name.padEnd(24)} median ${times[3]!.toFixed(1).padStart(8)} ms   ${out.slice(0, 120)}`)
}
process.exit(0)
