-- Per recipient, each campaign's latest send of the last 40 days only, campaign ids as 64-bit hashes:
-- what the cap check of a send (src/metrics/pressure.ts capsReached) reads when every window of the
-- check starts within that horizon. recipient_sends holds the whole history as strings, and a
-- 10,000-recipient check decodes the whole column (its recipients fall in every granule): ~60 % of
-- its CPU (bench/pressure.ts; figures in bench/README.md, "Tenth session: cap check"). Here the
-- column holds ~40 days of sends whatever the history's length, as two arrays of fixed-width numbers.
-- maxMap keeps, per campaign, the largest send time, as recipient_sends and sends (ReplacingMergeTree
-- (sent_at), latest wins) do: a send recorded again, or counted by both the view and the backfill,
-- changes nothing. Until merges catch up a recipient may have several rows: the check merges them.
-- Two campaign ids share a hash with probability ~2⁻⁶⁴ per pair (10,000 campaigns: ~3·10⁻¹²).
-- Kept to the horizon without rewriting at every send: the row goes once its latest send is 40 days
-- old (TTL below; src/store/retention.ts applies the same clause, shorter if sends are kept fewer
-- days), and src/store/recent-sends.ts drops older sends from the remaining rows every few hours. Until
-- then a row may hold older sends: the check reads within its windows only, and falls back to
-- recipient_sends for a window starting before now − 39 days (a day of margin for the clocks).
-- Erasure deletes the recipient's row (src/services/erasure.ts). A view is right here for the reason
-- recipient_sends has one: nothing rewrites sends but erasure and the retention TTL.
CREATE TABLE IF NOT EXISTS {db}.recipient_recent_sends
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sends SimpleAggregateFunction(maxMap, Tuple(Array(UInt64), Array(Int64))) COMMENT 'cityHash64 of each campaign id sent to this recipient in the last 40 days (sorted) and the latest send time of each, epoch ms' CODEC(NONE)
)
ENGINE = AggregatingMergeTree
ORDER BY recipient_id
TTL toDateTime(intDiv(arrayMax(sends.2), 1000)) + toIntervalDay(40)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.recipient_recent_sends_mv TO {db}.recipient_recent_sends AS
SELECT recipient_id, maxMap(([cityHash64(campaign_id)], [toUnixTimestamp64Milli(sent_at)])) AS sends
FROM {db}.sends
GROUP BY recipient_id;

-- The sends of the last 40 days stored before the view existed, from recipient_sends (each campaign's
-- latest send per recipient, one row each: a few seconds for 1 M recipients, nothing on an empty
-- database). Re-runnable: a repeat, or a send stored meanwhile (in both), adds the same maxima.
INSERT INTO {db}.recipient_recent_sends
WITH toUnixTimestamp64Milli(now64(3)) - 40 * 86400000 AS since
SELECT recipient_id, (arrayMap(c -> cityHash64(c), arrayFilter((c, t) -> t > since, sends.1, sends.2)), arrayFilter(t -> t > since, sends.2)) AS recent
FROM {db}.recipient_sends
WHERE arrayExists(t -> t > since, sends.2);
