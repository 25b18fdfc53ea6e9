-- Conversions are idempotent per order id: ingest looks the ids of a request up before journaling them.
-- A bloom filter on order_id lets that lookup skip the granules holding no conversion of those orders.
ALTER TABLE {db}.events ADD INDEX IF NOT EXISTS idx_order_id order_id TYPE bloom_filter(0.01) GRANULARITY 4;

ALTER TABLE {db}.events MATERIALIZE INDEX idx_order_id;
