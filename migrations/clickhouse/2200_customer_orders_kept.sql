-- Each customer's orders once, kept clean by the merges: per order key the largest ver (the API's row
-- over the pixel's, then the earliest: the row purchases FINAL keeps), keys sorted. The transitions
-- read the order times from it without deduplicating them at every request (the distinct-key check
-- over 5 M keys cost ≈ 170 ms of CPU per request, bench/lifecycle.ts), and the value per stage reads
-- the raw arrays as they are when both hold as many orders (no key recorded twice). The DEFAULT
-- computes it from a row's raw arrays, so the view of migration 1700 feeds it unchanged, and the
-- TTL and the erasure's DELETE of customer_orders take it with the row.
ALTER TABLE {db}.customer_orders ADD COLUMN IF NOT EXISTS kept SimpleAggregateFunction(maxMap, Tuple(Array(UInt64), Array(UInt64)))
    DEFAULT arrayReduce('maxMap', [order_keys], [vers])
    COMMENT 'Per distinct order key (sorted) the largest ver of its rows: the kept row''s order time, each order once';

-- The rows stored before the column existed (computed from their arrays; nothing to do on an empty table).
ALTER TABLE {db}.customer_orders MATERIALIZE COLUMN kept SETTINGS mutations_sync = 2;
