/*
 * Recipient projections for the timeline, tried on a data set kept by bench/metrics.ts: the
 * timeline query's median and CPU time before, then with one projection added and materialised
 * (storage from system.projection_parts, EXPLAIN showing whether the query reads it), then the
 * projection is dropped again so the kept set stays as the migrations made it.
 *
 *   DATA_DIR=/tmp/bench-metrics-own PROFILE_APPLY=narrow npx tsx bench/lib/metrics-timeline-projection.ts
 *   DATA_DIR=/tmp/bench-metrics-own PROFILE_APPLY=offsets npx tsx bench/lib/metrics-timeline-projection.ts
 *
 * narrow: the timeline's columns ordered by (recipient_id, ts), extra/user_agent/referer/ip left
 * out (the query then reads a conversion's extra separately). offsets: only _part_offset ordered
 * by recipient_id, which the engine applies as a row filter while reading the table.
 */
import { join } from 'node:path'
import { createEventStore } from '../../src/store/clickhouse.js'

const dir = process.env.DATA_DIR ?? '/tmp/bench-metrics'
const store = createEventStore({ database: process.env.CLICKHOUSE_DATABASE ?? 'sillage', path: join(dir, 'clickhouse') })
const db = store.db
const recipient = process.env.PROFILE_RECIPIENT ?? 'r1234'
const columns = 'event_id, type, toString(ts) AS ts_text, campaign_id, link_id, class, reasons, proxy, ua_client, ua_os, ua_device, toString(amount) AS amount, currency, order_id'
const tail = `FROM ${db}.events WHERE recipient_id = {r:String} AND class = 'human' ORDER BY ts DESC, event_id DESC LIMIT 51`
const queries = { current: `SELECT ${columns}, if(type = 'conversion', extra, '') AS extra ${tail}`, narrow: `SELECT ${columns} ${tail}` }
const projections: Record<string, string> = {
  narrow: `SELECT recipient_id, ts, event_id, type, campaign_id, link_id, class, reasons, proxy, ua_client, ua_os, ua_device, amount, currency, order_id ORDER BY recipient_id, ts`,
  offsets: `SELECT _part_offset ORDER BY recipient_id`,
}

async function text(sql: string): Promise<string> {
  const rs = await store.client.query({ query: sql, query_params: { r: recipient }, format: 'TabSeparatedRaw' })
  return rs.text()
}

async function measure(sql: string, runs = 15): Promise<string> {
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs + 2; i++) {
    const t = performance.now()
    const used = process.cpuUsage()
    await text(sql)
    const spent = process.cpuUsage(used)
    if (i < 2) continue
    wall.push(performance.now() - t)
    cpu.push((spent.user + spent.system) / 1000)
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1)
  return `median ${mid(wall)} ms, CPU ${mid(cpu)} ms`
}

async function report(label: string): Promise<void> {
  console.log(`-- ${label}`)
  console.log('events (projections included)', (await text(`SELECT formatReadableSize(sum(bytes_on_disk)) FROM system.parts WHERE database = '${db}' AND table = 'events' AND active`)).trim())
  console.log((await text(`SELECT name, formatReadableSize(sum(bytes_on_disk)) FROM system.projection_parts WHERE database = '${db}' AND table = 'events' AND active GROUP BY name ORDER BY name`)).trim())
  for (const [name, sql] of Object.entries(queries)) {
    const plan = (await text(`EXPLAIN projections = 1, indexes = 1 ${sql}`)).split('\n').filter((l) => /ReadFromMergeTree|Parts: \d+ \| Granules|Name: p_/.test(l))
    console.log(`${name.padEnd(8)} ${await measure(sql)}  ${plan.map((l) => l.trim().replace(/^[│└├─ ]+/, '')).join('; ')}`)
  }
}

await report('as migrated')
const apply = process.env.PROFILE_APPLY
if (apply) {
  const projection = projections[apply]
  if (!projection) throw new Error(`PROFILE_APPLY: one of ${Object.keys(projections).join(', ')}`)
  const name = `p_trial_${apply}`
  await store.client.command({ query: `ALTER TABLE ${db}.events ADD PROJECTION IF NOT EXISTS ${name} (${projection})` })
  const t = performance.now()
  await store.client.command({ query: `ALTER TABLE ${db}.events MATERIALIZE PROJECTION ${name} SETTINGS mutations_sync = 2` })
  console.log(`${name} materialised in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  await report(`with ${name}`)
  if (!process.env.PROFILE_KEEP) await store.client.command({ query: `ALTER TABLE ${db}.events DROP PROJECTION ${name} SETTINGS mutations_sync = 2` })
}
process.exit(0)
