-- Per recipient, the days with a human open or click and, for each, its first and latest such engagement:
-- the engagement counts over every campaign (GET /v1/engagement and its weekly points) find the latest
-- engagement at or before any instant from this one short map of small integers, instead of the four
-- per-campaign time arrays of recipient_engagement (migration 2500) and a lookup of events for campaigns
-- engaged both before and after the instant (bench/pressure.ts; figures in bench/README.md).
-- Why a day suffices: for an instant `at` in day D, the latest key at or before D answers exactly (its
-- latest time when at or before `at`; a day before D lies wholly before it), except when D holds
-- engagements on both sides of `at`: then the last one at or before `at` lies in [the day's first, at],
-- less than a day before `at`, so within activeDays (at least 1 day) whatever its exact time: active.
-- Human engagement only, as in 2500: class = 'human' on an attributed event (recipient_id = '' exactly
-- when the token is invalid). Unsubscribes only feed `last_unsubscribe`, so that the retention TTL gives
-- these rows the same deadline as recipient_engagement's (src/store/retention.ts).
-- maxMap keeps per day the largest latest time and the largest negated first time (the smallest first):
-- an event counted twice (a replayed batch, the view and the backfill below, a recompute racing the view)
-- changes nothing, and rows of one recipient not merged yet each give a lower bound in the right band
-- (the queries take the largest per recipient, without FINAL).
-- Events are rewritten in place by reclassification (src/classification/apply.ts), which no view sees:
-- the rows of the recipients concerned are recomputed from events with recipient_engagement's
-- (src/classification/engagement-refresh.ts). Erasure deletes the recipient's row (src/services/erasure.ts).
-- No deduplication window: a recompute may insert the same rows twice on purpose, and must not be dropped.
CREATE TABLE IF NOT EXISTS {db}.recipient_engagement_days
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    days SimpleAggregateFunction(maxMap, Tuple(Array(UInt16), Array(UInt32), Array(Int32))) COMMENT 'Days (since 1970-01-01 UTC, sorted) with a human open or click; per day the latest one''s ms within the day, and minus the first one''s ms within the day',
    last_engaged SimpleAggregateFunction(max, Int64) COMMENT 'Latest human open or click, epoch ms (0: none): a row whose latest is at or before an instant needs no look at its days',
    last_unsubscribe SimpleAggregateFunction(max, Int64) COMMENT 'Latest human unsubscribe, epoch ms (0: none): only for the retention TTL, as recipient_engagement''s'
)
ENGINE = AggregatingMergeTree
ORDER BY recipient_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.recipient_engagement_days_mv TO {db}.recipient_engagement_days AS
SELECT recipient_id,
       maxMapIf([toUInt16(intDiv(toUnixTimestamp64Milli(ts), 86400000))], [toUInt32(toUnixTimestamp64Milli(ts) % 86400000)], [toInt32(-(toUnixTimestamp64Milli(ts) % 86400000))], type IN ('open', 'click')) AS days,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type = 'unsubscribe')) AS last_unsubscribe
FROM {db}.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;

-- The events stored before the view existed (one inserted meanwhile is in both: the same maxima).
INSERT INTO {db}.recipient_engagement_days
SELECT recipient_id,
       maxMapIf([toUInt16(intDiv(toUnixTimestamp64Milli(ts), 86400000))], [toUInt32(toUnixTimestamp64Milli(ts) % 86400000)], [toInt32(-(toUnixTimestamp64Milli(ts) % 86400000))], type IN ('open', 'click')) AS days,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type = 'unsubscribe')) AS last_unsubscribe
FROM {db}.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;
