/*
 * Latency of the conversion and revenue endpoints on the embedded engine, on the metrics benchmark's
 * data (1 M sends, 10 M events by default) plus conversions from 2% of the clickers: half carrying a
 * click id, half recipient-only (attributed at query time), 10% in USD, a quarter of buyers buying again.
 *
 *   npx tsx bench/conversions.ts
 *   BENCH_SENDS=100000 BENCH_EVENTS=1000000 npx tsx bench/conversions.ts
 *
 * Before and after a change on the same data: DATA_DIR=<dir> BENCH_REUSE=1 reuses the metrics data set
 * generated there (by bench/metrics.ts or an earlier run) and adds the conversions only if it has none.
 */
import { randomUUID } from 'node:crypto'
import { BENCH_KEY, BENCH_SIZE, metricsDataSet, startBenchServer } from './lib/bench-server.js'

const bench = await startBenchServer('conversions')
const { deps, base } = bench

let t = performance.now()
const data = await metricsDataSet(bench)
const db = deps.events.db
const countConversions = async () =>
  Number(((await (await deps.events.client.query({ query: `SELECT count() AS n FROM ${db}.events WHERE type = 'conversion'`, format: 'JSONEachRow' })).json()) as [{ n: number }])[0].n)
if ((await countConversions()) === 0) {
  t = performance.now()
  await deps.events.client.command({
    query: `INSERT INTO ${db}.events (event_id, type, ts, campaign_id, link_id, recipient_id, token_valid, method, class, amount, currency, order_id, extra)
      SELECT
        concat('cv-', toString(cityHash64(campaign_id, recipient_id, rep))) AS event_id,
        'conversion' AS type,
        first_click + toIntervalMinute(30 + cityHash64(recipient_id, rep) % (3 * 1440)) + toIntervalDay(rep * 20) AS ts,
        if(via_click, campaign_id, '') AS campaign_id,
        if(via_click, any_link, '') AS link_id,
        recipient_id, true AS token_valid, 'POST' AS method, 'human' AS class,
        toDecimal64((cityHash64(recipient_id, rep, 1) % 20000) / 100, 4) AS amount,
        if(cityHash64(recipient_id, 2) % 10 = 0, 'USD', 'EUR') AS currency,
        event_id AS order_id,
        -- What ingest records for a recipient-only conversion: its last click.
        if(via_click, '{"kind":"purchase","via":"click_id"}',
           concat('{"kind":"purchase","via":"recipient","lastClick":{"campaign":"', campaign_id, '","link":"', any_link, '","ts":',
                  toString(toUnixTimestamp64Milli(first_click)), ',"type":"click"},"lastTouch":{"campaign":"', campaign_id, '","link":"', any_link,
                  '","ts":', toString(toUnixTimestamp64Milli(first_click)), ',"type":"click"}}')) AS extra
      FROM (
        SELECT campaign_id, recipient_id, min(ts) AS first_click, any(link_id) AS any_link, cityHash64(recipient_id, 3) % 2 = 0 AS via_click
        FROM ${db}.events
        WHERE type = 'click' AND class = 'human' AND recipient_id != '' AND cityHash64(campaign_id, recipient_id) % 50 = 0
        GROUP BY campaign_id, recipient_id
      )
      ARRAY JOIN if(cityHash64(recipient_id, 4) % 4 = 0, [0, 1], [0]) AS rep`,
    clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
  })
  console.log(`added ${await countConversions()} conversions in ${((performance.now() - t) / 1000).toFixed(1)} s`)
} else {
  console.log(`reusing ${await countConversions()} conversions`)
}

const c = data.campaigns[Math.min(3, data.campaigns.length - 1)]!
const [buyer] = (await (await deps.events.client.query({ query: `SELECT recipient_id FROM ${db}.events WHERE type = 'conversion' ORDER BY recipient_id LIMIT 1`, format: 'JSONEachRow' })).json()) as [{ recipient_id: string }]
const endpoints: Array<[string, string]> = [
  ['stats (baseline, metrics issue)', `/v1/campaigns/${c}/stats`],
  ['campaign conversions', `/v1/campaigns/${c}/conversions`],
  ['campaign conversions open, 30d', `/v1/campaigns/${c}/conversions?attribution=open&attributionWindow=30d`],
  ['compare conversion_rate', `/v1/campaigns/${c}/compare/conversions?by=variant`],
  ['compare revenue_per_recipient', `/v1/campaigns/${c}/compare/conversions?by=variant&metric=revenue_per_recipient`],
  [`compare ${data.campaigns.length} campaigns conv. rate`, `/v1/compare?campaigns=${data.campaigns.join(',')}&metric=conversion_rate`],
  [`compare ${data.campaigns.length} campaigns revenue`, `/v1/compare?campaigns=${data.campaigns.join(',')}&metric=revenue_per_recipient`],
  ['lifecycle', `/v1/lifecycle?at=2026-03-01T00:00:00Z`],
  ['recipient timeline (a buyer)', `/v1/recipients/${encodeURIComponent(buyer.recipient_id)}/timeline`],
]

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
console.log(`\n${'endpoint'.padEnd(34)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'bytes'.padStart(10)}`)
for (const [name, path] of endpoints) {
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < BENCH_SIZE.runs + 2; i++) {
    t = performance.now()
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${BENCH_KEY}` } })
    const body = await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
    bytes = body.byteLength
    const ms = performance.now() - t
    if (i >= 2) times.push(ms)
  }
  console.log(`${name.padEnd(34)} ${quantile(times, 0.5).toFixed(1).padStart(10)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${String(bytes).padStart(10)}`)
}

await bench.stop()
process.exit(0)
