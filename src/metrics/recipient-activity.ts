import { queryRows, type EventStore } from '../store/clickhouse.js'
import { DAY_MS } from '../util/window.js'

/**
 * "This recipient across campaigns": the queries pressure caps, engagement status, the wake-up
 * audience, the recipient page and cross-campaign triggers share, so they all mean the same thing.
 *
 * - A send is the latest row of a (campaign, recipient) in `sends` (a repeated send replaces the
 *   earlier one). The engagement status, the distribution and the cap check read it from
 *   `recipient_sends` (migration 2300: per recipient, each campaign's latest send time, the same
 *   thing kept by a view on sends), one row per recipient instead of ten sends: on 10 M sends the
 *   sends side of engagement went from ~1.8 s to ~0.16 s CPU. The recipient page's list of sends
 *   groups that recipient's rows of `sends` by (recipient, campaign).
 * - Engagement is a human open or click only: class = 'human' on an attributed event. An invalid
 *   token's event has recipient_id = '' (the edge sets both together), so `recipient_id != ''` is
 *   token_valid and never reaches anyone. Machine opens (Apple Mail Privacy Protection, prefetches,
 *   scanners) never count.
 */

export interface RecipientSend {
  recipientId: string
  campaignId: string
  /** epoch ms */
  sentAt: number
}

/**
 * The sends of these recipients with sent_at in [since, until], across campaigns (or only `campaigns`),
 * oldest first per recipient. `excludeCampaign` leaves one campaign out (a send of the campaign
 * being sent again would be replaced, not added).
 */
export async function recipientSends(
  store: EventStore,
  recipientIds: readonly string[],
  w: { since: number; until: number; excludeCampaign?: string | undefined; campaigns?: readonly string[] | undefined },
): Promise<RecipientSend[]> {
  if (recipientIds.length === 0) return []
  const rows = await queryRows<{ r: string; c: string; at: number }>(
    store,
    // Few recipients: grouping their rows costs less than FINAL's merge of the whole table.
    `SELECT recipient_id AS r, campaign_id AS c, toUnixTimestamp64Milli(max(sent_at)) AS at
     FROM ${store.db}.sends
     WHERE recipient_id IN {ids:Array(String)}${w.excludeCampaign !== undefined ? ' AND campaign_id != {exclude:String}' : ''}${w.campaigns ? ' AND campaign_id IN {campaigns:Array(String)}' : ''}
     GROUP BY recipient_id, campaign_id
     HAVING at >= {since:Int64} AND at <= {until:Int64}
     ORDER BY r, at`,
    { ids: [...new Set(recipientIds)], since: w.since, until: w.until, exclude: w.excludeCampaign ?? '', campaigns: w.campaigns ?? [] },
  )
  return rows.map((x) => ({ recipientId: x.r, campaignId: x.c, sentAt: Number(x.at) }))
}

export const ENGAGEMENT_STATUSES = ['active', 'lapsing', 'inactive', 'never_engaged', 'dormant'] as const
export type EngagementStatus = (typeof ENGAGEMENT_STATUSES)[number]

export interface EngagementThresholds {
  /** A human open or click within this many days: active (default 30). */
  activeDays: number
  /** Last human open or click between activeDays and this many days ago: lapsing (default 90). */
  inactiveDays: number
  /** Sends within inactiveDays needed to call a recipient without engagement there inactive (default 3). */
  minSends: number
}

export const DEFAULT_THRESHOLDS: EngagementThresholds = { activeDays: 30, inactiveDays: 90, minSends: 3 }

/** Each status in words, with the thresholds of the request: what the API states next to the counts. */
export function statusDefinitions(t: EngagementThresholds): Record<EngagementStatus, string> {
  return {
    active: `a human open or click within the last ${t.activeDays} days`,
    lapsing: `last human open or click between ${t.activeDays} and ${t.inactiveDays} days ago`,
    inactive: `no human open or click within ${t.inactiveDays} days, and at least ${t.minSends} sends in that time`,
    never_engaged: `no human open or click ever, and fewer than ${t.minSends} sends within ${t.inactiveDays} days (too early to say)`,
    dormant: `a human open or click once, none within ${t.inactiveDays} days, and fewer than ${t.minSends} sends in that time (not mailed enough to say)`,
  }
}

export interface StatusScope {
  /** The instant the status is computed at (epoch ms): events and sends after it are ignored. */
  at: number
  thresholds: EngagementThresholds
  /** Only these campaigns' sends and engagement (a category's campaigns); undefined: all. */
  campaigns?: readonly string[] | undefined
  /** Only these recipients; undefined: everyone ever sent to. */
  recipientIds?: readonly string[] | undefined
  /** Only recipient ids after this one: a page starts where the previous one ended. */
  after?: string | undefined
}

/**
 * The status from a recipient's `last_engaged` (epoch ms, 0: none) and `recent_sends`: the one
 * multiIf both variants of engagementStatusSql end with.
 */
const STATUS_OF = `multiIf(last_engaged > {activeFrom:Int64}, 'active',
              last_engaged > {inactiveFrom:Int64}, 'lapsing',
              recent_sends >= {minSends:UInt32}, 'inactive',
              last_engaged = 0, 'never_engaged', 'dormant')`

/**
 * Every recipient's row of recipient_sends with its parts merged: `recipient_id, sends`. In one part
 * FINAL costs nothing; but each sends call leaves a small part spread over the whole key range until
 * the forced merge a minute later (migration 2410), and FINAL then merged all 1 M rows (P7D
 * distribution 50–76 → 760–940 ms after a 10,000-recipient call, the engagement counts ≈ 250 → 1 050). So with several parts: the rows of
 * the largest part as they are, except the recipients that also have a row in another part, whose rows
 * are merged by maxMap (what FINAL does): the distribution 245–263 ms, the same answers (bench/README.md, tenth session).
 * A merge or a new part between the parts' list and the read changes the cost, not the answer (a
 * largest part merged away meanwhile leaves every row to the maxMap).
 */
export async function mergedRecipientSends(store: EventStore): Promise<{ sql: string; params: { sendsPart: string } }> {
  const parts = await queryRows<{ name: string }>(
    store,
    `SELECT name FROM system.parts WHERE database = {db:String} AND table = 'recipient_sends' AND active ORDER BY rows DESC, name LIMIT 2`,
    { db: store.db },
  )
  const t = `${store.db}.recipient_sends`
  const sendsPart = parts[0]?.name ?? ''
  if (parts.length <= 1) return { sql: `SELECT recipient_id, sends FROM ${t} FINAL`, params: { sendsPart } }
  // Filtering on _part skips whole parts: the split ids read only the small parts.
  const split = `(SELECT DISTINCT recipient_id FROM ${t} WHERE _part != {sendsPart:String})`
  return {
    sql: `SELECT recipient_id, sends FROM ${t} WHERE _part = {sendsPart:String} AND recipient_id NOT IN ${split}
         UNION ALL
         SELECT recipient_id, maxMap(sends) AS sends FROM ${t} WHERE recipient_id IN ${split} GROUP BY recipient_id`,
    params: { sendsPart },
  }
}

/**
 * SQL of one row per recipient sent to at or before `at`: `recipient_id`, `sends` (ever),
 * `recent_sends` (within inactiveDays), `last_sent`, `last_open`, `last_click` (epoch ms, 0: none)
 * and `status`. The one definition of the status: counts, audience and the recipient page all
 * select from it. Every value is bound.
 *
 * `statusOnly`: rows of `recipient_id` and `status` alone (the counts and the weekly series), the
 * same status by the same multiIf, computed with less: see statusEngagementRows. `sendsRows`: the
 * recipient_sends rows to read instead of FINAL (mergedRecipientSends), for the counts over everyone.
 */
export function engagementStatusSql(db: string, s: StatusScope, opts: { statusOnly?: boolean; sendsRows?: string } = {}): { sql: string; params: Record<string, unknown> } {
  const t = s.thresholds
  const recipientScope = `${s.recipientIds ? ' AND recipient_id IN {ids:Array(String)}' : ''}${s.after !== undefined ? ' AND recipient_id > {after:String}' : ''}`
  const inScope = s.campaigns ? ' AND has({campaigns:Array(String)}, c)' : ''
  // A lambda over each send's time (t), in the campaigns asked.
  const timesOf = (cond: string) => (s.campaigns ? `(t, c) -> ${cond}${inScope}, sends.2, sends.1` : `t -> ${cond}, sends.2`)
  const sql = opts.statusOnly
    ? `
    SELECT recipient_id, ${STATUS_OF} AS status
    FROM (
      -- One aggregation by recipient of both sides' rows, instead of grouping the engagement rows and
      -- joining them to the sends (two hash tables of the recipients' ids).
      SELECT recipient_id, max(sent) AS sent, max(recent) AS recent_sends, max(engaged) AS last_engaged
      FROM (
        -- Sent at or before \`at\`, and the sends within inactiveDays: no list of times is built, and
        -- over every campaign the campaign ids are not read.
        SELECT recipient_id, 1 AS sent, arrayCount(${timesOf('t > {inactiveFrom:Int64} AND t <= {at:Int64}')}) AS recent, toInt64(0) AS engaged
        FROM ${opts.sendsRows ? `(${opts.sendsRows})` : `${db}.recipient_sends FINAL`}
        WHERE arrayExists(${timesOf('t <= {at:Int64}')})${recipientScope}
        UNION ALL
        ${statusEngagementRows(db, s, recipientScope, inScope)}
      )
      GROUP BY recipient_id
      HAVING sent = 1
    )`
    : `
    SELECT recipient_id, sends, recent_sends, last_sent, last_open, last_click, ${STATUS_OF} AS status
    FROM (
      SELECT s.recipient_id AS recipient_id, s.sends AS sends, s.recent_sends AS recent_sends, s.last_sent AS last_sent,
             e.last_open AS last_open, e.last_click AS last_click, e.last_engaged AS last_engaged
      FROM (
        -- Each campaign's latest send per recipient (recipient_sends, migration 2300: what sends
        -- FINAL keeps), those sent at or before the instant asked.
        SELECT recipient_id, length(ts) AS sends, arrayCount(t -> t > {inactiveFrom:Int64}, ts) AS recent_sends, arrayMax(ts) AS last_sent
        FROM (
          SELECT recipient_id, arrayFilter((t, c) -> t <= {at:Int64}${inScope}, sends.2, sends.1) AS ts
          FROM ${db}.recipient_sends FINAL
          WHERE 1${recipientScope}
        )
        WHERE notEmpty(ts)
      ) AS s
      LEFT JOIN (${fullEngagementSide(db, s, recipientScope, inScope)}) AS e USING (recipient_id)
    )`
  return {
    sql,
    params: {
      at: s.at,
      activeFrom: s.at - t.activeDays * DAY_MS,
      inactiveFrom: s.at - t.inactiveDays * DAY_MS,
      minSends: t.minSends,
      // The day of `at` and its ms within that day, for recipient_engagement_days (see dayBound).
      atDay: Math.floor(s.at / DAY_MS),
      atOffset: s.at - Math.floor(s.at / DAY_MS) * DAY_MS,
      campaigns: s.campaigns ?? [],
      ids: s.recipientIds ? [...new Set(s.recipientIds)] : [],
      after: s.after ?? '',
    },
  }
}

/** A row's (recipient, campaign) pairs with a first engagement at or before `at` and the latest after it, in the campaigns asked. */
const ambiguousCampaigns = (inScope: string) => `arrayConcat(
                       arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}${inScope}, opens.1, opens.2, first_opens.2),
                       arrayFilter((c, t, f) -> f <= {at:Int64} AND t > {at:Int64}${inScope}, clicks.1, clicks.2, first_clicks.2))`

/**
 * Each recipient's last human open, click and either at or before `at` from recipient_engagement
 * (migration 2500: per campaign the first and latest of each, kept by a view on events). Row by row,
 * without FINAL (merging the maps of rows the merges have not combined yet cost ~6 s of CPU on 1 M
 * recipients), then the largest per recipient: a row's campaign whose latest is at or before `at`
 * gives its latest; one whose first is after `at` gives nothing; one with its first at or before `at`
 * and its latest after (only for an `at` in the past) may hold an earlier engagement the row does not
 * keep: those (recipient, campaign) pairs are read from events. The last engagement at or before `at`
 * is in some row between its first and latest, so one of the two cases finds it.
 */
function fullEngagementSide(db: string, s: StatusScope, recipientScope: string, inScope: string): string {
  // A row's last open and click at or before `at` (0: none), in the campaigns asked.
  const lastOf = (m: 'opens' | 'clicks') =>
    `arrayMax(arrayPushBack(${s.campaigns ? `arrayFilter((t, c) -> t <= {at:Int64}${inScope}, ${m}.2, ${m}.1)` : `arrayFilter(t -> t <= {at:Int64}, ${m}.2)`}, 0))`
  const fromRows = (engaged: string, where: string) =>
    `SELECT recipient_id, ${lastOf('opens')} AS open, ${lastOf('clicks')} AS click, ${engaged} AS engaged
          FROM ${db}.recipient_engagement WHERE ${where}${recipientScope}`
  // Over every campaign, a row engaged last at or before `at` holds its answer in last_engaged: the
  // counts (which need no last open and click apart) read that column alone, and the maps only of
  // the rows engaged after `at`. In some campaigns, every row's maps are read.
  const rowsAnswering = s.campaigns
    ? fromRows('greatest(open, click)', '1')
    : `${fromRows('last_engaged', 'last_engaged <= {at:Int64}')}
          UNION ALL
          ${fromRows('greatest(open, click)', 'last_engaged > {at:Int64}')}`
  return `
        SELECT recipient_id, max(open) AS last_open, max(click) AS last_click, max(engaged) AS last_engaged
        FROM (
          ${rowsAnswering}
          UNION ALL
          -- The exact last ones at or before \`at\` of the pairs the rows leave open, found by the events'
          -- key (campaign first) and the date bound.
          SELECT recipient_id, toUnixTimestamp64Milli(maxIf(ts, type = 'open')) AS open, toUnixTimestamp64Milli(maxIf(ts, type = 'click')) AS click, greatest(open, click) AS engaged
          FROM ${db}.events
          WHERE type IN ('open', 'click') AND class = 'human' AND recipient_id != ''
            AND ts <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')
            AND (recipient_id, campaign_id) IN (
              -- (arrayFilter returns its first array's elements: the campaign ids.)
              SELECT recipient_id, arrayJoin(${ambiguousCampaigns(inScope)})
              FROM ${db}.recipient_engagement
              -- Only a row with an engagement after \`at\` can have such a pair: a cheap column rules out the rest.
              WHERE last_engaged > {at:Int64}${recipientScope}
            )
          GROUP BY recipient_id
        )
        GROUP BY recipient_id`
}

/**
 * For the status alone, `last_engaged` need not be the last engagement at or before `at`, only one
 * in the same band of the multiIf: after activeFrom, after inactiveFrom, earlier, or none. A row's
 * campaign gives its latest if at or before `at`, else its first if at or before `at` (a real
 * engagement, maybe not the last): the largest of these is a lower bound, exact without ambiguous
 * campaigns. When it is after activeFrom the recipient is active whatever the events hold; else the
 * ambiguous pairs are read from events, only within (inactiveFrom, at]: an engagement there moves
 * the band, an earlier one cannot (the first, at or before `at`, already proves one, so never_engaged
 * and dormant are told apart without it). At the end of the history the ambiguous campaigns are the
 * last week's, whose first engagement is recent: no event is read. Over every campaign (activeDays
 * of a day or more) the per-day summary answers instead, exactly and without events: dayEngagementRows.
 */
function statusEngagementRows(db: string, s: StatusScope, recipientScope: string, inScope: string): string {
  if (!s.campaigns && s.thresholds.activeDays >= 1 && s.at >= 0) return dayEngagementRows(db, recipientScope)
  const boundOf = (m: 'opens' | 'clicks', first: string) =>
    `arrayMax(arrayPushBack(arrayMap((t, f${s.campaigns ? ', c' : ''}) -> ${s.campaigns ? `if(has({campaigns:Array(String)}, c), multiIf(t <= {at:Int64}, t, f <= {at:Int64}, f, 0), 0)` : 'multiIf(t <= {at:Int64}, t, f <= {at:Int64}, f, 0)'}, ${m}.2, ${first}.2${s.campaigns ? `, ${m}.1` : ''}), 0))`
  const bound = `greatest(${boundOf('opens', 'first_opens')}, ${boundOf('clicks', 'first_clicks')})`
  return `${s.campaigns ? '' : `SELECT recipient_id, 0, 0, last_engaged FROM ${db}.recipient_engagement WHERE last_engaged <= {at:Int64}${recipientScope}
        UNION ALL
        `}SELECT recipient_id, 0, 0, ${bound}
        FROM ${db}.recipient_engagement WHERE ${s.campaigns ? '1' : 'last_engaged > {at:Int64}'}${recipientScope}
        UNION ALL
        SELECT recipient_id, 0, 0, toUnixTimestamp64Milli(ts)
        FROM ${db}.events
        WHERE type IN ('open', 'click') AND class = 'human' AND recipient_id != ''
          AND ts > fromUnixTimestamp64Milli({inactiveFrom:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')
          AND (recipient_id, campaign_id) IN (
            SELECT recipient_id, arrayJoin(${ambiguousCampaigns(inScope)})
            FROM ${db}.recipient_engagement
            WHERE last_engaged > {at:Int64} AND ${bound} <= {activeFrom:Int64}${recipientScope}
          )`
}

/**
 * Over every campaign, with activeDays of at least a day: one row per recipient_engagement_days row
 * (migration 3500: per day with a human open or click, its first and latest), without FINAL, and a
 * value in the band of the recipient's last engagement at or before `at`, from that row's days alone.
 * The last day at or before `at`'s day (keys sorted by maxMap) gives its latest when at or before
 * `at` (a day before `at`'s lies wholly before it); else, if that day's first is at or before `at`, the
 * last engagement lies between it and `at`, less than a day apart: active whatever its exact time (so
 * the first stands in for it); else the day before it gives its latest. A recipient's rows not merged
 * yet each give such a value for their events: the largest is in the band of all of them. No events
 * are read.
 */
function dayEngagementRows(db: string, recipientScope: string): string {
  const timeAt = (i: string) => `toInt64(days.1[${i}]) * ${DAY_MS} + days.2[${i}]`
  // As in statusEngagementRows, a row engaged last at or before \`at\` answers from the column alone.
  return `SELECT recipient_id, 0, 0, last_engaged FROM ${db}.recipient_engagement_days WHERE last_engaged > 0 AND last_engaged <= {at:Int64}${recipientScope}
        UNION ALL
        SELECT recipient_id, 0, 0,
               multiIf(j = 0, 0,
                       days.1[j] < {atDay:UInt16} OR days.2[j] <= {atOffset:UInt32}, ${timeAt('j')},
                       -days.3[j] <= {atOffset:UInt32}, toInt64(days.1[j]) * ${DAY_MS} - days.3[j],
                       j > 1, ${timeAt('j - 1')}, 0)
        FROM (SELECT recipient_id, days, arrayLastIndex(d -> d <= {atDay:UInt16}, days.1) AS j
              FROM ${db}.recipient_engagement_days WHERE last_engaged > {at:Int64}${recipientScope})`
}

export interface RecipientEngagement {
  recipientId: string
  status: EngagementStatus
  lastOpenAt: string | null
  lastClickAt: string | null
  /** Sends ever (at or before `at`), and within inactiveDays. */
  sends: number
  recentSends: number
  lastSentAt: string | null
}

export interface StatusRow {
  recipient_id: string
  sends: number
  recent_sends: number
  last_sent: number
  last_open: number
  last_click: number
  status: EngagementStatus
}

const isoOrNull = (ms: number): string | null => (Number(ms) > 0 ? new Date(Number(ms)).toISOString() : null)

export function toRecipientEngagement(r: StatusRow): RecipientEngagement {
  return {
    recipientId: r.recipient_id,
    status: r.status,
    lastOpenAt: isoOrNull(r.last_open),
    lastClickAt: isoOrNull(r.last_click),
    sends: Number(r.sends),
    recentSends: Number(r.recent_sends),
    lastSentAt: isoOrNull(r.last_sent),
  }
}

/**
 * The engagement of the named recipients at `at` (default thresholds: 30 / 90 days, 3 sends), one
 * query. A recipient never sent to (within the campaigns, if given) is absent from the map. For
 * cross-campaign triggers ("became inactive") and the recipient page.
 */
export async function recipientEngagement(
  store: EventStore,
  recipientIds: readonly string[],
  opts: { at: number; thresholds?: EngagementThresholds | undefined; campaigns?: readonly string[] | undefined },
): Promise<Map<string, RecipientEngagement>> {
  if (recipientIds.length === 0) return new Map()
  const q = engagementStatusSql(store.db, { at: opts.at, thresholds: opts.thresholds ?? DEFAULT_THRESHOLDS, campaigns: opts.campaigns, recipientIds })
  const rows = await queryRows<StatusRow>(store, q.sql, q.params)
  return new Map(rows.map((r) => [r.recipient_id, toRecipientEngagement(r)]))
}
