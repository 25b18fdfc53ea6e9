/*
 * Latency of the lifecycle endpoints (descriptive and predictive) and the purchase patterns on a shop's
 * purchase history: 1 M customers and 5 M orders over two years by default, generated inside ClickHouse
 * (INSERT … SELECT FROM numbers()): every customer a first order, the other orders to customers drawn with
 * a skew (a few buy often), 10% of customers paying in USD, 1 to 3 line items from 200 products in 12
 * categories; a win-back campaign sent to 100 000 customers with 10 000 held out.
 *
 *   npx tsx bench/lifecycle.ts
 *   LIFECYCLE_CUSTOMERS=100000 LIFECYCLE_ORDERS=500000 npx tsx bench/lifecycle.ts
 *
 * DATA_DIR=<dir> BENCH_REUSE=1 reuses the orders generated there by an earlier run.
 */
import { randomUUID } from 'node:crypto'
import { BENCH_KEY, BENCH_SIZE, startBenchServer } from './lib/bench-server.js'

const CUSTOMERS = Number(process.env.LIFECYCLE_CUSTOMERS ?? 1_000_000)
const ORDERS = Number(process.env.LIFECYCLE_ORDERS ?? 5_000_000)
const DAYS = 730
const END = Date.parse('2026-06-01T00:00:00Z')

const bench = await startBenchServer('lifecycle')
const { deps, base } = bench
const db = deps.events.db
const scalar = async (query: string) =>
  Number(((await (await deps.events.client.query({ query, format: 'JSONEachRow' })).json()) as [{ n: number }])[0].n)
const run = (query: string, params: Record<string, unknown> = {}) =>
  deps.events.client.command({ query, query_params: params, clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 } })

// The campaign lives in the metadata store (a 409 when it is already there): a data directory whose metadata was reset keeps its events.
await fetch(`${base}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Win back', id: 'winback' }) })
const existing = await scalar(`SELECT count() AS n FROM ${db}.events WHERE type = 'conversion'`)
if (existing === 0 || !process.env.BENCH_REUSE) {
  let t = performance.now()
  // Order n: customer n for the first CUSTOMERS orders, then a customer drawn as floor(C × u²) (skewed to low ids).
  // Items: 1 to 3 lines, product p of 200, category p % 12, price 2 to 80 with cents, quantity 1 to 3.
  await run(
    `INSERT INTO ${db}.events (event_id, type, ts, campaign_id, link_id, recipient_id, token_valid, method, class, amount, currency, order_id, extra)
     SELECT concat('cv-', toString(n)) AS event_id, 'conversion' AS type,
            fromUnixTimestamp64Milli({end:Int64} - toInt64(cityHash64(n, 'ts') % ({days:UInt64} * 86400000)), 'UTC') AS ts,
            '' AS campaign_id, '' AS link_id, concat('cust-', toString(c)) AS recipient_id, true AS token_valid, 'POST' AS method, 'human' AS class,
            toDecimal64(arraySum(arrayMap(i -> toDecimal64(2 + (cityHash64(n, i, 'p') % 7800) / 100, 2) * (1 + cityHash64(n, i, 'q') % 3), range(lines))), 4) AS amount,
            if(cityHash64(c, 'cur') % 10 = 0, 'USD', 'EUR') AS currency,
            event_id AS order_id,
            concat('{"kind":"purchase","via":"recipient","items":[',
                   arrayStringConcat(arrayMap(i -> concat('{"sku":"SKU-', toString(cityHash64(n, i) % 200), '","name":"Product ', toString(cityHash64(n, i) % 200),
                                                          '","category":"cat-', toString(cityHash64(n, i) % 200 % 12), '","quantity":', toString(1 + cityHash64(n, i, 'q') % 3),
                                                          ',"price":"', toString(toDecimal64(2 + (cityHash64(n, i, 'p') % 7800) / 100, 2)), '"}'), range(lines)), ','),
                   ']}') AS extra
     FROM (SELECT number AS n,
                  if(number < {customers:UInt64}, number, toUInt64(floor({customers:UInt64} * pow((cityHash64(number, 'c') % 1000000) / 1000000, 2)))) AS c,
                  1 + cityHash64(number, 'l') % 3 AS lines
           FROM numbers({orders:UInt64}))`,
    { end: END, days: DAYS, customers: CUSTOMERS, orders: ORDERS },
  )
  console.log(`generated ${await scalar(`SELECT count() AS n FROM ${db}.events WHERE type = 'conversion'`)} orders of ${CUSTOMERS} customers in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  t = performance.now()
  // Sent 120 days before the end to every tenth customer id; every hundredth other one (ids ending in 5) held out.
  for (const [table, col, step] of [['sends', 'sent_at', 10], ['holdouts', 'held_at', 100]] as const) {
    await run(
      `INSERT INTO ${db}.${table} (campaign_id, recipient_id, ${col}, variant, segments, attributes)
       SELECT 'winback', concat('cust-', toString(number * {step:UInt64} + {offset:UInt64})), fromUnixTimestamp64Milli({at:Int64}, 'UTC'), '', ['winback'], map()
       FROM numbers({n:UInt64})`,
      { step, offset: table === 'sends' ? 0 : 5, at: END - 120 * 86_400_000, n: Math.floor(CUSTOMERS / step) },
    )
  }
  console.log(`sends and holdouts in ${((performance.now() - t) / 1000).toFixed(1)} s`)
} else {
  console.log(`reusing ${existing} orders in ${bench.dataDir}`)
}

const at = new Date(END).toISOString()
const endpoints: Array<[string, string]> = [
  ['transitions P30D, 6 windows', `/v1/lifecycle/transitions?horizon=P30D&at=${at}`],
  ['transitions P90D, 4 windows', `/v1/lifecycle/transitions?horizon=P90D&windows=4&at=${at}`],
  ['transitions campaign + holdout', `/v1/lifecycle/transitions?horizon=P90D&windows=1&campaignId=winback&at=${at}`],
  ['value P90D', `/v1/lifecycle/value?horizon=P90D&at=${at}`],
  ['purchases top by product', `/v1/purchases/top?by=product&from=2026-03-01T00:00:00Z&to=${at}`],
  ['purchases next after SKU-7', `/v1/purchases/next?after=SKU-7&at=${at}`],
  // Last: it sends every customer's first and second purchase dates back to JavaScript (1 M pairs here).
  ['lifecycle (descriptive)', `/v1/lifecycle?at=${at}`],
]
/** BENCH_ONLY=<regexp> times only the endpoints whose name matches (e.g. 'transitions|value'), as the other benches. */
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
// chDB runs in this process: its CPU time per request is this process's, which the other tenants of a loaded machine do not inflate.
console.log(`\n${'endpoint'.padEnd(34)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'cpu ms'.padStart(8)} ${'bytes'.padStart(8)}`)
for (const [name, path] of endpoints) {
  if (only && !only.test(name)) continue
  const times: number[] = []
  const cpus: number[] = []
  let bytes = 0
  for (let i = 0; i < BENCH_SIZE.runs + 2; i++) {
    const t = performance.now()
    const cpu = process.cpuUsage()
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${BENCH_KEY}` } })
    const body = await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
    bytes = body.byteLength
    if (i < 2) continue
    times.push(performance.now() - t)
    const used = process.cpuUsage(cpu)
    cpus.push((used.user + used.system) / 1000)
  }
  console.log(`${name.padEnd(34)} ${quantile(times, 0.5).toFixed(1).padStart(10)} ${quantile(times, 0.9).toFixed(1).padStart(8)} ${quantile(cpus, 0.5).toFixed(0).padStart(8)} ${String(bytes).padStart(8)}`)
}

await bench.stop()
process.exit(0)
