-- Per recipient, each campaign's latest human open, click and unsubscribe and its first human open and click, kept up to date by
-- a materialized view on events: the engagement status (GET /v1/engagement, the wake-up audience, the
-- recipient page, cross-campaign triggers) reads 1 M short maps instead of grouping ~22 M human opens and
-- clicks by recipient (bench/pressure.ts; figures in bench/README.md).
-- Human engagement only, the events the status counts: class = 'human' on an attributed event (an open,
-- click or unsubscribe has recipient_id = '' exactly when its token is invalid: the edge sets both).
-- maxMap / minMap keep, per campaign, the largest and smallest time: an event counted twice (a replayed
-- batch, the view and the backfill below, a recompute racing the view) changes nothing. Until merges
-- catch up a recipient may have several rows: the queries read with FINAL or merge the maps again.
-- A map keeps one time per campaign, so for an instant `at` in the past a campaign whose first time is at
-- or before `at` and whose latest is after it has an engagement at or before `at` whose time the row
-- does not hold: the queries read those from events (src/metrics/recipient-activity.ts).
-- Events are rewritten in place by reclassification (src/classification/apply.ts: the class of an event
-- changes, which no view sees): after each update the rows of the recipients concerned are recomputed
-- from events (src/classification/engagement-refresh.ts). Erasure deletes the recipient's row
-- (src/services/erasure.ts); retention gives the row the events' days on its latest time
-- (src/store/retention.ts).
-- No deduplication window: a recompute may insert the same rows twice on purpose, and must not be dropped.
CREATE TABLE IF NOT EXISTS {db}.recipient_engagement
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    opens SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids (sorted) and the latest human open of each, epoch ms',
    clicks SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids (sorted) and the latest human click of each, epoch ms',
    unsubscribes SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids (sorted) and the latest human unsubscribe of each, epoch ms',
    first_opens SimpleAggregateFunction(minMap, Tuple(Array(String), Array(Int64))) COMMENT 'The same campaigns as opens and the first human open of each, epoch ms',
    first_clicks SimpleAggregateFunction(minMap, Tuple(Array(String), Array(Int64))) COMMENT 'The same campaigns as clicks and the first human click of each, epoch ms',
    last_engaged SimpleAggregateFunction(max, Int64) COMMENT 'Latest human open or click of any campaign, epoch ms (0: none): a row whose latest is at or before an instant is answered from the maps alone'
)
ENGINE = AggregatingMergeTree
ORDER BY recipient_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.recipient_engagement_mv TO {db}.recipient_engagement AS
SELECT recipient_id,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS opens,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS clicks,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'unsubscribe') AS unsubscribes,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS first_opens,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS first_clicks,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged
FROM {db}.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;

-- The events stored before the view existed (one inserted meanwhile is in both: the same maxima and minima).
INSERT INTO {db}.recipient_engagement
SELECT recipient_id,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS opens,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS clicks,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'unsubscribe') AS unsubscribes,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS first_opens,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS first_clicks,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged
FROM {db}.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;
