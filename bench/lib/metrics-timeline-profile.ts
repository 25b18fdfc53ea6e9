/*
 * Timeline query shapes on a data set kept by bench/metrics.ts: the bloom-filter index's use
 * (EXPLAIN indexes=1), the current query's median, and, with PROFILE_APPLY=granularity1, the index
 * rebuilt at GRANULARITY 1, with storage before and after.
 *
 *   DATA_DIR=/tmp/bench-metrics-own npx tsx bench/lib/metrics-timeline-profile.ts
 */
import { join } from 'node:path'
import { createEventStore } from '../../src/store/clickhouse.js'

const dir = process.env.DATA_DIR ?? '/tmp/bench-metrics'
const store = createEventStore({ database: process.env.CLICKHOUSE_DATABASE ?? 'sillage', path: join(dir, 'clickhouse') })
const db = store.db
const recipient = process.env.PROFILE_RECIPIENT ?? 'r1234'
const timeline = `SELECT event_id, type, toString(ts) AS ts_text, campaign_id, link_id, class, reasons, proxy, ua_client, ua_os, ua_device, toString(amount) AS amount, currency, order_id, if(type = 'conversion', extra, '') AS extra
  FROM ${db}.events WHERE recipient_id = {r:String} ORDER BY ts DESC, event_id DESC LIMIT 51`

async function text(sql: string): Promise<string> {
  const rs = await store.client.query({ query: sql, query_params: { r: recipient }, format: 'TabSeparatedRaw' })
  return rs.text()
}

async function median(sql: string, runs = 11): Promise<number> {
  const xs: number[] = []
  for (let i = 0; i < runs + 2; i++) {
    const t = performance.now()
    await text(sql)
    if (i >= 2) xs.push(performance.now() - t)
  }
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
}

const size = () => text(`SELECT formatReadableSize(sum(bytes_on_disk)) FROM system.parts WHERE database = '${db}' AND table = 'events' AND active`)
console.log('storage', (await size()).trim())
console.log((await text(`EXPLAIN indexes = 1 ${timeline}`)).split('\n').filter((l) => /Name|Granules|Parts|Keys|Condition|Type/.test(l)).join('\n'))
console.log('timeline median ms', (await median(timeline)).toFixed(1))
if (process.env.PROFILE_APPLY === 'granularity1') {
  await store.client.command({ query: `ALTER TABLE ${db}.events DROP INDEX IF EXISTS idx_recipient_g1` })
  await store.client.command({ query: `ALTER TABLE ${db}.events ADD INDEX idx_recipient_g1 recipient_id TYPE bloom_filter(0.01) GRANULARITY 1` })
  await store.client.command({ query: `ALTER TABLE ${db}.events MATERIALIZE INDEX idx_recipient_g1 SETTINGS mutations_sync = 2` })
  console.log('storage with idx_recipient_g1', (await size()).trim())
  console.log((await text(`EXPLAIN indexes = 1 ${timeline}`)).split('\n').filter((l) => /Name|Granules|Parts/.test(l)).join('\n'))
  console.log('timeline median ms (g1)', (await median(timeline)).toFixed(1))
}
process.exit(0)
