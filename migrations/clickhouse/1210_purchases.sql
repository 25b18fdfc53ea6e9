-- Purchases as the lifecycle and purchase-pattern metrics read them: one narrow row per conversion with a
-- recipient, sorted by (kind, recipient), fed by a materialized view on events. Reading the conversions out
-- of `events` meant parsing every row's extra JSON for its kind and sorting all order ids to keep each
-- once: on 5 M orders 1.9 s and 4 s of CPU before any figure was computed (bench/lifecycle.ts).
-- Each order id once, as the other reports count it: the API's row over the public pixel's (method GET),
-- then the earliest; the largest ver wins at merge time, and queries read with FINAL.
CREATE TABLE IF NOT EXISTS {db}.purchases
(
    kind LowCardinality(String) COMMENT 'Conversion type (extra.kind: purchase, refill, ...)',
    recipient_id String COMMENT 'Sender''s opaque recipient id of the buyer',
    order_id String COMMENT 'Conversion pivot id, the idempotency key',
    ts DateTime64(3, 'UTC') COMMENT 'When the order happened',
    amount Decimal(18, 4) COMMENT 'Order amount, exact decimal',
    currency LowCardinality(String) COMMENT 'ISO 4217 code of amount; empty without amount',
    items String COMMENT 'Line items as a JSON array (extra.items), empty when none' CODEC(ZSTD(3)),
    ver UInt64 COMMENT '10^13 if not from the pixel, plus 10^13 - ts in ms: the row of an order id that is kept is the largest'
)
ENGINE = ReplacingMergeTree(ver)
ORDER BY (kind, recipient_id, order_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.purchases_mv TO {db}.purchases AS
SELECT JSONExtractString(extra, 'kind') AS kind, recipient_id, order_id, ts, amount, currency,
       JSONExtractRaw(extra, 'items') AS items, toUInt64(if(method = 'GET', 0, 10000000000000) + 10000000000000 - toUnixTimestamp64Milli(ts)) AS ver
FROM {db}.events
WHERE type = 'conversion' AND recipient_id != '';

-- The conversions stored before the view existed (a row inserted meanwhile, by both, is the same order: kept once).
INSERT INTO {db}.purchases
SELECT JSONExtractString(extra, 'kind') AS kind, recipient_id, order_id, ts, amount, currency,
       JSONExtractRaw(extra, 'items') AS items, toUInt64(if(method = 'GET', 0, 10000000000000) + 10000000000000 - toUnixTimestamp64Milli(ts)) AS ver
FROM {db}.events
WHERE type = 'conversion' AND recipient_id != '';
