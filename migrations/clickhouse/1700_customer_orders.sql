-- Per customer (kind, recipient id), every purchases row as parallel arrays, kept up to date by a
-- materialized view on purchases: the stages at a few instants (GET /v1/lifecycle/transitions and
-- /value) become one pass over 1 M customer rows instead of 5 M orders read with FINAL and grouped by
-- customer (4.7 s of CPU per request, bench/lifecycle.ts). Rows are appended, never replaced: an order
-- recorded twice (the pixel's row and the API's, two instances racing) appears twice here, and the
-- queries keep, per order key, the entry with the largest ver, the row purchases FINAL keeps.
-- Erasure deletes a recipient's row here too (src/services/erasure.ts).
CREATE TABLE IF NOT EXISTS {db}.customer_orders
(
    kind LowCardinality(String) COMMENT 'Conversion type (extra.kind), as in purchases',
    recipient_id String COMMENT 'Sender''s opaque recipient id of the buyer',
    order_keys SimpleAggregateFunction(groupArrayArray, Array(UInt64)) COMMENT 'cityHash64 of each row''s order id',
    vers SimpleAggregateFunction(groupArrayArray, Array(UInt64)) COMMENT 'Each row''s ver as in purchases (10^13 if not from the pixel, plus 10^13 - order time in ms): the order time is read back from it',
    amounts SimpleAggregateFunction(groupArrayArray, Array(Decimal(18, 4))) COMMENT 'Each row''s order amount, exact decimal',
    currencies SimpleAggregateFunction(groupArrayArray, Array(String)) COMMENT 'Each row''s ISO 4217 currency; empty without amount'
)
ENGINE = AggregatingMergeTree
ORDER BY (kind, recipient_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.customer_orders_mv TO {db}.customer_orders AS
SELECT kind, recipient_id, groupArray(cityHash64(order_id)) AS order_keys, groupArray(ver) AS vers, groupArray(amount) AS amounts,
       groupArray(toString(currency)) AS currencies
FROM {db}.purchases
GROUP BY kind, recipient_id;

-- The purchases stored before the view existed (a row inserted meanwhile is in both: kept once by ver at read).
INSERT INTO {db}.customer_orders
SELECT kind, recipient_id, groupArray(cityHash64(order_id)) AS order_keys, groupArray(ver) AS vers, groupArray(amount) AS amounts,
       groupArray(toString(currency)) AS currencies
FROM {db}.purchases
GROUP BY kind, recipient_id;
