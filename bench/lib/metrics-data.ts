import { randomUUID } from 'node:crypto'
import type { AppDeps } from '../../src/deps.js'
import { createCampaign, upsertLink } from '../../src/services/campaigns.js'

export interface BenchData {
  campaigns: string[]
  links: Record<string, string[]>
  recipientsPerCampaign: number
}

const settings = () => ({ insert_deduplication_token: randomUUID(), async_insert: 0 as const })

/**
 * Sends and events generated inside ClickHouse (INSERT … SELECT … FROM numbers()), so ten
 * million rows take seconds. Every campaign is sent to the same recipients r0…r(n−1), the
 * way a newsletter list is, so one recipient's timeline spans all campaigns.
 *
 * Events: 40% of recipients ever react; 68% opens, 30% clicks over 10 links (skewed to the
 * first ones), 2% unsubscribes; 85% human, 10% Apple MPP opens, 5% scanner clicks; 0.1%
 * invalid tokens; delays from send skewed towards the first hours over a week.
 */
export async function generateMetricsData(deps: AppDeps, opts: { campaigns: number; sends: number; events: number }): Promise<BenchData> {
  const db = deps.events.db
  const n = Math.floor(opts.sends / opts.campaigns)
  const campaigns: string[] = []
  const links: Record<string, string[]> = {}
  for (let c = 0; c < opts.campaigns; c++) {
    const id = `bench-${c}`
    campaigns.push(id)
    await createCampaign(deps, { id, name: `Bench ${c}` })
    links[id] = []
    for (let k = 0; k < 10; k++) {
      const { link } = await upsertLink(deps, id, { url: `https://shop.example/p/${k % 7}`, label: `link ${k}`, position: k })
      links[id]!.push(link.id)
    }
  }
  await deps.events.client.command({
    query: `INSERT INTO ${db}.sends (campaign_id, recipient_id, sent_at, variant, segments, attributes)
      SELECT
        {campaigns:Array(String)}[(number % {nc:UInt32}) + 1] AS campaign_id,
        concat('r', toString(intDiv(number, {nc:UInt32}))) AS recipient_id,
        toDateTime64('2026-01-05 09:00:00', 3, 'UTC') + toIntervalDay(number % {nc:UInt32}) AS sent_at,
        ['A', 'B'][(cityHash64(number, 1) % 2) + 1] AS variant,
        arrayFilter((s, i) -> bitTest(cityHash64(intDiv(number, {nc:UInt32}), 2), i), ['vip', 'fr', 'de', 'new', 'inactive'], range(5)) AS segments,
        map('country', ['FR', 'DE', 'US', 'GB', 'ES'][(cityHash64(intDiv(number, {nc:UInt32}), 3) % 5) + 1], 'plan', ['free', 'pro'][(cityHash64(intDiv(number, {nc:UInt32}), 4) % 2) + 1]) AS attributes
      FROM numbers({total:UInt64})`,
    query_params: { campaigns, nc: opts.campaigns, total: n * opts.campaigns },
    clickhouse_settings: settings(),
  })
  await deps.events.client.command({
    query: `INSERT INTO ${db}.events (event_id, type, ts, campaign_id, link_id, recipient_id, token_valid, method, class, reasons, ua_client, ua_os, ua_device)
      SELECT
        toString(generateUUIDv4(number)) AS event_id,
        multiIf(h % 100 < 68, 'open', h % 100 < 98, 'click', 'unsubscribe') AS type,
        toDateTime64('2026-01-05 09:00:00', 3, 'UTC') + toIntervalDay(c) + toIntervalMillisecond(toUInt64(pow((cityHash64(number, 7) % 1000000) / 1000000, 3) * 604800000)) AS ts,
        {campaigns:Array(String)}[c + 1] AS campaign_id,
        if(type = 'click', {links:Array(Array(String))}[c + 1][least(10, 1 + toUInt32(floor(pow((cityHash64(number, 8) % 1000) / 1000, 2) * 10)))], '') AS link_id,
        if(cityHash64(number, 9) % 1000 = 0, '', concat('r', toString(cityHash64(number, 5) % {engaged:UInt64}))) AS recipient_id,
        recipient_id != '' AS token_valid,
        'GET' AS method,
        multiIf(type = 'open' AND k % 100 < 12, 'machine_open', type = 'click' AND k % 100 < 15, 'scanner_click', 'human') AS class,
        multiIf(class = 'machine_open', ['apple_mpp'], class = 'scanner_click', if(k % 2 = 0, ['scanner_ip'], ['scanner_ip', 'head_request']), []) AS reasons,
        ['Apple Mail', 'Gmail', 'Outlook', 'Chrome'][(k % 4) + 1] AS ua_client,
        ['iOS', 'Windows', 'macOS', 'Android'][(k % 4) + 1] AS ua_os,
        ['mobile', 'desktop'][(k % 2) + 1] AS ua_device
      FROM (SELECT number, cityHash64(number, 6) AS h, cityHash64(number, 10) AS k, number % {nc:UInt32} AS c FROM numbers({total:UInt64}))`,
    query_params: { campaigns, links: campaigns.map((c) => links[c]!), nc: opts.campaigns, total: opts.events, engaged: Math.max(1, Math.floor(n * 0.4)) },
    clickhouse_settings: settings(),
  })
  return { campaigns, links, recipientsPerCampaign: n }
}
