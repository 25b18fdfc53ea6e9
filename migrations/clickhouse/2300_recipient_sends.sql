-- Per recipient, the latest send time of each campaign sent to them, kept up to date by a materialized
-- view on sends: the cap check of a send reads its recipients' rows here (10,000 of 1 M) instead of
-- finding them among every send, and the pressure distribution and the engagement counts read 1 M short
-- maps instead of 10 M sends with FINAL (bench/pressure.ts; figures in bench/README.md).
-- maxMap keeps, per campaign, the largest send time: a send recorded again (the same campaign and
-- recipient) replaces the earlier one, as in sends (ReplacingMergeTree(sent_at), latest wins), and a
-- row counted twice (the view and the backfill below, two instances racing) changes nothing. Until
-- merges catch up a recipient may have several rows: the queries read with FINAL or maxMap again.
-- A view is right here because nothing rewrites sends but erasure (which deletes the recipient's row
-- here too, src/services/erasure.ts) and the retention TTL (src/store/retention.ts gives this table
-- the same days, on the row's latest send).
CREATE TABLE IF NOT EXISTS {db}.recipient_sends
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sends SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids sent to this recipient (sorted) and the latest send time of each, epoch ms'
)
ENGINE = AggregatingMergeTree
ORDER BY recipient_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.recipient_sends_mv TO {db}.recipient_sends AS
SELECT recipient_id, maxMap(([campaign_id], [toUnixTimestamp64Milli(sent_at)])) AS sends
FROM {db}.sends
GROUP BY recipient_id;

-- The sends stored before the view existed (one inserted meanwhile is in both: the same maximum).
INSERT INTO {db}.recipient_sends
SELECT recipient_id, maxMap(([campaign_id], [toUnixTimestamp64Milli(sent_at)])) AS sends
FROM {db}.sends
GROUP BY recipient_id;
