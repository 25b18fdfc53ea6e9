/*
 * The write-path cost of a materialized view on events (VIEW, default recipient_engagement_mv of
 * migration 2500; recipient_engagement_days_mv is 3500's): 1 M events inserted in batches of BATCH
 * (default 5,000: the writer's inserts are batches of that order), with every view, then the same with
 * that view dropped, on a fresh database. Mix as bench/pressure.ts: 70% opens,
 * 28% clicks, 2% unsubscribes, 75% human, over 1 M recipients and 100 campaigns.
 *
 *   VIEW=recipient_engagement_days_mv npx tsx bench/engagement-write.ts
 */
import { randomUUID } from 'node:crypto'
import { startBenchServer } from './lib/bench-server.js'

const EVENTS = Number(process.env.EVENTS ?? 1_000_000)
const BATCH = Number(process.env.BATCH ?? 5_000)
const VIEW = process.env.VIEW ?? 'recipient_engagement_mv'
const bench = await startBenchServer('engagement-write')
const { client, db } = bench.deps.events

async function insertAll(offset: number): Promise<{ ms: number; cpu: number }> {
  const t = performance.now()
  const used = process.cpuUsage()
  for (let i = 0; i < EVENTS; i += BATCH) {
    await client.command({
      query: `INSERT INTO ${db}.events (event_id, type, ts, campaign_id, link_id, recipient_id, token_valid, method, class, reasons)
        SELECT toString(generateUUIDv4(number)),
               multiIf(h % 100 < 70, 'open', h % 100 < 98, 'click', 'unsubscribe') AS type,
               fromUnixTimestamp64Milli(toInt64(1790000000000 + number * 1000), 'UTC'),
               concat('p-', toString(number % 100)), if(type = 'click', 'L1', ''),
               concat('r', toString(cityHash64(number, 5) % 1000000)), 1, 'GET',
               multiIf(type = 'unsubscribe', 'human', k < 75, 'human', type = 'open', 'machine_open', 'scanner_click') AS class,
               multiIf(class = 'machine_open', ['apple_mpp'], class = 'scanner_click', ['scanner_ua'], [])
        FROM (SELECT number, cityHash64(number, 3) AS h, cityHash64(number, 4) % 100 AS k FROM numbers({from:UInt64}, {n:UInt64}))`,
      query_params: { from: offset + i, n: Math.min(BATCH, EVENTS - i) },
      clickhouse_settings: { insert_deduplication_token: randomUUID() },
    })
  }
  const c = process.cpuUsage(used)
  return { ms: performance.now() - t, cpu: (c.user + c.system) / 1000 }
}

const withView = await insertAll(0)
await client.command({ query: `DROP VIEW ${db}.${VIEW}` })
const without = await insertAll(EVENTS)
console.log(`${EVENTS} events in batches of ${BATCH}, ${VIEW} dropped for the second run`)
console.log(`with the view     ${withView.ms.toFixed(0)} ms, ${withView.cpu.toFixed(0)} ms CPU`)
console.log(`without the view  ${without.ms.toFixed(0)} ms, ${without.cpu.toFixed(0)} ms CPU`)
await bench.stop()
