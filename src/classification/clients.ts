import { type EventWindow, timeClauses, trafficCondition } from '../metrics/sql.js'
import { queryRows, type EventStore } from '../store/clickhouse.js'

export interface ClientCounts {
  /** Client, OS or device type as parsed from the user agent; 'unknown' when it could not be told. */
  name: string
  opens: { total: number; unique: number }
  clicks: { total: number; unique: number }
}

export interface ClientBreakdown {
  clients: ClientCounts[]
  os: ClientCounts[]
  devices: ClientCounts[]
}

/**
 * Opens and clicks of a campaign by mail client (or browser, or mail proxy), OS and device
 * type, from the ua_* columns the writer fills. One scan: each event is counted once per
 * dimension through an ARRAY JOIN over the three (dimension, value) pairs.
 */
export async function clientBreakdown(store: EventStore, campaignId: string, w: EventWindow): Promise<ClientBreakdown> {
  const time = timeClauses(w)
  const rows = await queryRows<{ dim: string; name: string; opens_total: number; opens_unique: number; clicks_total: number; clicks_unique: number }>(
    store,
    `SELECT pair.1 AS dim, pair.2 AS name,
            countIf(type = 'open') AS opens_total,
            uniqExactIf(recipient_id, type = 'open' AND recipient_id != '') AS opens_unique,
            countIf(type = 'click') AS clicks_total,
            uniqExactIf(recipient_id, type = 'click' AND recipient_id != '') AS clicks_unique
     FROM ${store.db}.events
     ARRAY JOIN [('client', ua_client), ('os', ua_os), ('device', ua_device)] AS pair
     WHERE campaign_id = {campaign:String} AND type IN ('open', 'click') AND ${trafficCondition(w.traffic)}${time.sql}
     GROUP BY dim, name
     ORDER BY dim, opens_total + clicks_total DESC, name`,
    { campaign: campaignId, ...time.params },
  )
  const out: ClientBreakdown = { clients: [], os: [], devices: [] }
  for (const r of rows) {
    const entry: ClientCounts = {
      name: r.name || 'unknown',
      opens: { total: Number(r.opens_total), unique: Number(r.opens_unique) },
      clicks: { total: Number(r.clicks_total), unique: Number(r.clicks_unique) },
    }
    if (r.dim === 'client') out.clients.push(entry)
    else if (r.dim === 'os') out.os.push(entry)
    else out.devices.push(entry)
  }
  return out
}
