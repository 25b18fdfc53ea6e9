-- 0001_events_and_sends.sql
CREATE TABLE IF NOT EXISTS sillage.events
(
    event_id String COMMENT 'Unique per event; assigned at the edge and kept through journal replays',
    type LowCardinality(String) COMMENT 'open | click | unsubscribe | conversion',
    ts DateTime64(3, 'UTC') COMMENT 'When the edge received the request',
    campaign_id String COMMENT 'Campaign the link or pixel belongs to',
    link_id String COMMENT 'Tracked link id for clicks; empty otherwise',
    recipient_id String COMMENT 'Sender''s opaque recipient id; empty when the token was invalid',
    token_valid Bool COMMENT 'false: forged or damaged token, event unattributed',
    method LowCardinality(String) COMMENT 'HTTP method of the request (HEAD is a machine signal)',
    ip String COMMENT 'Client address, anonymised by default (IPv4 /24, IPv6 /48)',
    user_agent String COMMENT 'Raw User-Agent header' CODEC(ZSTD(3)),
    referer String COMMENT 'Raw Referer header' CODEC(ZSTD(3)),
    prefetch LowCardinality(String) COMMENT 'Prefetch hints seen on the request',
    class LowCardinality(String) COMMENT 'human | machine_open | scanner_click | crawler',
    reasons Array(LowCardinality(String)) COMMENT 'Why the class was given (apple_mpp, head_request, burst, ...)',
    proxy LowCardinality(String) COMMENT 'Mail proxy of a human open (gmail, yahoo)',
    classifier_version UInt16 COMMENT 'Version of the rules that set class and reasons',
    ua_client LowCardinality(String) COMMENT 'Browser or mail client parsed from user_agent',
    ua_os LowCardinality(String) COMMENT 'Operating system parsed from user_agent',
    ua_device LowCardinality(String) COMMENT 'desktop | mobile | tablet | bot | unknown',
    amount Decimal(18, 4) COMMENT 'Conversion amount, exact decimal',
    currency LowCardinality(String) COMMENT 'ISO 4217 code of amount',
    order_id String COMMENT 'Conversion pivot id (order, basket); idempotency key of conversions',
    extra String COMMENT 'JSON for type-specific fields' CODEC(ZSTD(3)),
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_event_id event_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (campaign_id, type, toDate(ts), recipient_id, ts)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 0001_events_and_sends.sql
CREATE TABLE IF NOT EXISTS sillage.sends
(
    campaign_id String COMMENT 'Campaign sent',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sent_at DateTime64(3, 'UTC') COMMENT 'When the message was sent (given by the sender, else receipt time)',
    variant LowCardinality(String) COMMENT 'A/B variant, empty when none',
    segments Array(LowCardinality(String)) COMMENT 'Segments the recipient belongs to for this send',
    attributes Map(LowCardinality(String), String) COMMENT 'Free attributes (country, plan, ...)',
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree(sent_at)
ORDER BY (campaign_id, recipient_id)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 0300_recipient_facts_projection.sql
ALTER TABLE sillage.events ADD PROJECTION IF NOT EXISTS p_recipient_facts
(
    SELECT campaign_id, recipient_id, type, class, count(), min(ts), max(ts)
    GROUP BY campaign_id, recipient_id, type, class
);

-- 0300_recipient_facts_projection.sql
ALTER TABLE sillage.events MATERIALIZE PROJECTION p_recipient_facts SETTINGS mutations_sync = 2;

-- 0400_conversions_order_index.sql
ALTER TABLE sillage.events ADD INDEX IF NOT EXISTS idx_order_id order_id TYPE bloom_filter(0.01) GRANULARITY 4;

-- 0400_conversions_order_index.sql
ALTER TABLE sillage.events MATERIALIZE INDEX idx_order_id;

-- 0500_recipient_timeline_projection.sql
ALTER TABLE sillage.events ADD PROJECTION IF NOT EXISTS p_by_recipient
(
    SELECT recipient_id, ts, event_id, type, campaign_id, link_id, class, reasons, proxy, ua_client, ua_os, ua_device, amount, currency, order_id
    ORDER BY recipient_id, ts
);

-- 0500_recipient_timeline_projection.sql
ALTER TABLE sillage.events MATERIALIZE PROJECTION p_by_recipient SETTINGS mutations_sync = 2;

-- 0600_recipient_traffic_projection.sql
ALTER TABLE sillage.events ADD PROJECTION IF NOT EXISTS p_recipient_traffic
(
    SELECT campaign_id, recipient_id,
        countIf(type = 'open' AND class = 'human'), countIf(type = 'click' AND class = 'human'),
        countIf(type = 'unsubscribe' AND class = 'human'),
        minIf(ts, type = 'open' AND class = 'human'), minIf(ts, type = 'click' AND class = 'human'),
        countIf(type = 'open' AND class != 'human'), countIf(type = 'click' AND class != 'human'),
        countIf(type = 'unsubscribe' AND class != 'human'),
        minIf(ts, type = 'open' AND class != 'human'), minIf(ts, type = 'click' AND class != 'human'),
        countIf(type = 'open'), countIf(type = 'click'),
        countIf(type = 'unsubscribe'),
        minIf(ts, type = 'open'), minIf(ts, type = 'click')
    GROUP BY campaign_id, recipient_id
);

-- 0600_recipient_traffic_projection.sql
ALTER TABLE sillage.events MATERIALIZE PROJECTION p_recipient_traffic SETTINGS mutations_sync = 2;

-- 0600_recipient_traffic_projection.sql
ALTER TABLE sillage.events DROP PROJECTION IF EXISTS p_recipient_facts SETTINGS mutations_sync = 2;

-- 0610_campaign_classes_projection.sql
ALTER TABLE sillage.events ADD PROJECTION IF NOT EXISTS p_campaign_classes
(
    SELECT campaign_id, type, class, reasons, count(), min(ts), max(ts)
    GROUP BY campaign_id, type, class, reasons
);

-- 0610_campaign_classes_projection.sql
ALTER TABLE sillage.events MATERIALIZE PROJECTION p_campaign_classes SETTINGS mutations_sync = 2;

-- 0800_outbox.sql
ALTER TABLE sillage.events ADD COLUMN IF NOT EXISTS seq UInt64 DEFAULT 0 COMMENT 'Insert order: writer batch << 17 | row in batch; 0 for rows inserted before the outbox existed';

-- 0800_outbox.sql
ALTER TABLE sillage.events ADD INDEX IF NOT EXISTS idx_seq seq TYPE minmax GRANULARITY 1;

-- 0800_outbox.sql
ALTER TABLE sillage.events MATERIALIZE INDEX idx_seq;

-- 0800_outbox.sql
CREATE TABLE IF NOT EXISTS sillage.outbox_events
(
    event_id String COMMENT 'Envelope id; derived deterministically (same change, same id)',
    seq UInt64 COMMENT 'Same sequence as events.seq: one order for the stream',
    type LowCardinality(String) COMMENT 'email.reclassified | audience.entered',
    ts DateTime64(3, 'UTC') COMMENT 'When the change happened',
    campaign_id String COMMENT 'Campaign of the event or of the trigger audience; empty for cross-campaign',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    class LowCardinality(String) COMMENT 'New class of a reclassified event; empty otherwise',
    prev_class LowCardinality(String) COMMENT 'Class before a reclassification; empty otherwise',
    after_settle UInt8 COMMENT '1: the event may have been delivered with its old verdict (settle: verdict endpoints get this change)',
    data String COMMENT 'The envelope data, JSON' CODEC(ZSTD(3))
)
ENGINE = ReplicatedMergeTree()
ORDER BY seq
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 0900_sequences.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_enrollments
(
    sequence_id String COMMENT 'Sequence id',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    entered_at DateTime64(3, 'UTC') COMMENT 'When the recipient entered (the base of every step offset)',
    status LowCardinality(String) COMMENT 'active | completed | exited',
    exit_reason LowCardinality(String) COMMENT 'converted | unsubscribed | suppressed | removed | erased | reentered; empty unless exited',
    exit_step_id String COMMENT 'The step the recipient was due for next when they left (skipped for exit_reason); empty unless exited',
    exited_at DateTime64(3, 'UTC') COMMENT 'When the exit happened (the conversion, the suppression, the removal); 1970 unless exited',
    version UInt64 COMMENT 'Write time in ms: ReplacingMergeTree keeps the row with the largest',
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree(version)
ORDER BY (sequence_id, recipient_id, entered_at)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 0900_sequences.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_sends
(
    sequence_id String COMMENT 'Sequence id',
    step_id String COMMENT 'Step id within the sequence',
    campaign_id String COMMENT 'The step''s campaign (its opens and clicks are the step''s)',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    entered_at DateTime64(3, 'UTC') COMMENT 'The entry this send belongs to (its cohort)',
    sent_at DateTime64(3, 'UTC') COMMENT 'When the step was sent',
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree()
ORDER BY (sequence_id, step_id, recipient_id, entered_at)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 1100_applied_settings.sql
CREATE TABLE IF NOT EXISTS sillage.applied_settings
(
    name String COMMENT 'What was applied: events_ttl, sends_ttl',
    value String COMMENT 'The TTL clause applied (empty: none); compared with the one the configuration gives',
    applied_at DateTime64(3, 'UTC') COMMENT 'When it was applied; the latest row of a name wins'
)
ENGINE = ReplicatedReplacingMergeTree(applied_at)
ORDER BY name;

-- 1200_holdouts.sql
CREATE TABLE IF NOT EXISTS sillage.holdouts
(
    campaign_id String COMMENT 'Campaign the recipient was held out of',
    recipient_id String COMMENT 'Sender''s opaque recipient id (the id conversions carry)',
    held_at DateTime64(3, 'UTC') COMMENT 'When the others were sent (the sends call''s sentAt, else receipt time)',
    variant LowCardinality(String) COMMENT 'A/B variant the sender gave, empty when none',
    segments Array(LowCardinality(String)) COMMENT 'Segments the recipient belongs to, as for a send',
    attributes Map(LowCardinality(String), String) COMMENT 'Free attributes, as for a send',
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree(held_at)
ORDER BY (campaign_id, recipient_id)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 1210_purchases.sql
CREATE TABLE IF NOT EXISTS sillage.purchases
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
ENGINE = ReplicatedReplacingMergeTree(ver)
ORDER BY (kind, recipient_id, order_id)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 1210_purchases.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.purchases_mv TO sillage.purchases AS
SELECT JSONExtractString(extra, 'kind') AS kind, recipient_id, order_id, ts, amount, currency,
       JSONExtractRaw(extra, 'items') AS items, toUInt64(if(method = 'GET', 0, 10000000000000) + 10000000000000 - toUnixTimestamp64Milli(ts)) AS ver
FROM sillage.events
WHERE type = 'conversion' AND recipient_id != '';

-- 1210_purchases.sql
INSERT INTO sillage.purchases
SELECT JSONExtractString(extra, 'kind') AS kind, recipient_id, order_id, ts, amount, currency,
       JSONExtractRaw(extra, 'items') AS items, toUInt64(if(method = 'GET', 0, 10000000000000) + 10000000000000 - toUnixTimestamp64Milli(ts)) AS ver
FROM sillage.events
WHERE type = 'conversion' AND recipient_id != '';

-- 1700_customer_orders.sql
CREATE TABLE IF NOT EXISTS sillage.customer_orders
(
    kind LowCardinality(String) COMMENT 'Conversion type (extra.kind), as in purchases',
    recipient_id String COMMENT 'Sender''s opaque recipient id of the buyer',
    order_keys SimpleAggregateFunction(groupArrayArray, Array(UInt64)) COMMENT 'cityHash64 of each row''s order id',
    vers SimpleAggregateFunction(groupArrayArray, Array(UInt64)) COMMENT 'Each row''s ver as in purchases (10^13 if not from the pixel, plus 10^13 - order time in ms): the order time is read back from it',
    amounts SimpleAggregateFunction(groupArrayArray, Array(Decimal(18, 4))) COMMENT 'Each row''s order amount, exact decimal',
    currencies SimpleAggregateFunction(groupArrayArray, Array(String)) COMMENT 'Each row''s ISO 4217 currency; empty without amount'
)
ENGINE = ReplicatedAggregatingMergeTree()
ORDER BY (kind, recipient_id)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 1700_customer_orders.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.customer_orders_mv TO sillage.customer_orders AS
SELECT kind, recipient_id, groupArray(cityHash64(order_id)) AS order_keys, groupArray(ver) AS vers, groupArray(amount) AS amounts,
       groupArray(toString(currency)) AS currencies
FROM sillage.purchases
GROUP BY kind, recipient_id;

-- 1700_customer_orders.sql
INSERT INTO sillage.customer_orders
SELECT kind, recipient_id, groupArray(cityHash64(order_id)) AS order_keys, groupArray(ver) AS vers, groupArray(amount) AS amounts,
       groupArray(toString(currency)) AS currencies
FROM sillage.purchases
GROUP BY kind, recipient_id;

-- 2200_customer_orders_kept.sql
ALTER TABLE sillage.customer_orders ADD COLUMN IF NOT EXISTS kept SimpleAggregateFunction(maxMap, Tuple(Array(UInt64), Array(UInt64)))
    DEFAULT arrayReduce('maxMap', [order_keys], [vers])
    COMMENT 'Per distinct order key (sorted) the largest ver of its rows: the kept row''s order time, each order once';

-- 2200_customer_orders_kept.sql
ALTER TABLE sillage.customer_orders MATERIALIZE COLUMN kept SETTINGS mutations_sync = 2;

-- 2210_customer_orders_kept_money.sql
ALTER TABLE sillage.customer_orders ADD COLUMN IF NOT EXISTS kept_money SimpleAggregateFunction(maxMap, Tuple(Array(UInt64), Array(Tuple(UInt64, Decimal(18, 4), String))))
    DEFAULT arrayReduce('maxMap', [order_keys], [arrayZip(vers, amounts, currencies)])
    COMMENT 'Per distinct order key (sorted) the largest (ver, amount, currency) of its rows: the kept row''s order time (from ver), amount and currency, each order once';

-- 2210_customer_orders_kept_money.sql
ALTER TABLE sillage.customer_orders MATERIALIZE COLUMN kept_money SETTINGS mutations_sync = 2;

-- 2300_recipient_sends.sql
CREATE TABLE IF NOT EXISTS sillage.recipient_sends
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sends SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids sent to this recipient (sorted) and the latest send time of each, epoch ms'
)
ENGINE = ReplicatedAggregatingMergeTree()
ORDER BY recipient_id
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 2300_recipient_sends.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.recipient_sends_mv TO sillage.recipient_sends AS
SELECT recipient_id, maxMap(([campaign_id], [toUnixTimestamp64Milli(sent_at)])) AS sends
FROM sillage.sends
GROUP BY recipient_id;

-- 2300_recipient_sends.sql
INSERT INTO sillage.recipient_sends
SELECT recipient_id, maxMap(([campaign_id], [toUnixTimestamp64Milli(sent_at)])) AS sends
FROM sillage.sends
GROUP BY recipient_id;

-- 2400_recipient_sends_uncompressed.sql
ALTER TABLE sillage.recipient_sends MODIFY COLUMN sends SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64)))
    COMMENT 'Campaign ids sent to this recipient (sorted) and the latest send time of each, epoch ms' CODEC(NONE);

-- 2400_recipient_sends_uncompressed.sql
ALTER TABLE sillage.recipient_sends UPDATE sends = sends WHERE true SETTINGS mutations_sync = 2;

-- 2410_recipient_sends_force_merge.sql
ALTER TABLE sillage.recipient_sends MODIFY SETTING min_age_to_force_merge_seconds = 60;

-- 2500_recipient_engagement.sql
CREATE TABLE IF NOT EXISTS sillage.recipient_engagement
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    opens SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids (sorted) and the latest human open of each, epoch ms',
    clicks SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids (sorted) and the latest human click of each, epoch ms',
    unsubscribes SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64))) COMMENT 'Campaign ids (sorted) and the latest human unsubscribe of each, epoch ms',
    first_opens SimpleAggregateFunction(minMap, Tuple(Array(String), Array(Int64))) COMMENT 'The same campaigns as opens and the first human open of each, epoch ms',
    first_clicks SimpleAggregateFunction(minMap, Tuple(Array(String), Array(Int64))) COMMENT 'The same campaigns as clicks and the first human click of each, epoch ms',
    last_engaged SimpleAggregateFunction(max, Int64) COMMENT 'Latest human open or click of any campaign, epoch ms (0: none): a row whose latest is at or before an instant is answered from the maps alone'
)
ENGINE = ReplicatedAggregatingMergeTree()
ORDER BY recipient_id;

-- 2500_recipient_engagement.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.recipient_engagement_mv TO sillage.recipient_engagement AS
SELECT recipient_id,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS opens,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS clicks,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'unsubscribe') AS unsubscribes,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS first_opens,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS first_clicks,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged
FROM sillage.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;

-- 2500_recipient_engagement.sql
INSERT INTO sillage.recipient_engagement
SELECT recipient_id,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS opens,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS clicks,
       maxMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'unsubscribe') AS unsubscribes,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'open') AS first_opens,
       minMapIf(([campaign_id], [toUnixTimestamp64Milli(ts)]), type = 'click') AS first_clicks,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged
FROM sillage.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;

-- 3300_sequence_send_facts.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_send_facts
(
    sequence_id String COMMENT 'Sequence id',
    step_id String COMMENT 'Step id within the sequence',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    entered_at DateTime64(3, 'UTC') COMMENT 'The entry this send belongs to (its cohort)',
    campaign_id String COMMENT 'The step''s campaign when it was sent (the facts are of its events)',
    sent_at DateTime64(3, 'UTC') COMMENT 'When the step was sent',
    human_open UInt8 COMMENT '1 if the recipient has a human open of the campaign',
    machine_open UInt8 COMMENT '1 if the recipient has a machine (class != human) open of the campaign',
    human_click Int64 COMMENT 'First human click of the campaign by the recipient, epoch ms; 0: none',
    machine_click Int64 COMMENT 'First machine click of the campaign by the recipient, epoch ms; 0: none',
    human_unsubscribe UInt8 COMMENT '1 if the recipient has a human unsubscribe of the campaign',
    machine_unsubscribe UInt8 COMMENT '1 if the recipient has a machine unsubscribe of the campaign',
    version UInt64 COMMENT 'When the computation of this row started, µs: ReplacingMergeTree keeps the largest'
)
ENGINE = ReplicatedReplacingMergeTree(version)
ORDER BY (sequence_id, step_id, recipient_id, entered_at)
SETTINGS min_age_to_force_merge_seconds = 60;

-- 3300_sequence_send_facts.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_send_facts_cursor
(
    seq UInt64 COMMENT 'Events with seq at or below this are applied to sequence_send_facts',
    at DateTime64(3, 'UTC') COMMENT 'When the cursor moved'
)
ENGINE = ReplicatedReplacingMergeTree(seq)
ORDER BY tuple();

-- 3300_sequence_send_facts.sql
INSERT INTO sillage.sequence_send_facts
SELECT s.sequence_id, s.step_id, s.recipient_id, s.entered_at, s.campaign_id, s.sent_at,
       f.human_open, f.machine_open, f.human_click, f.machine_click, f.human_unsubscribe, f.machine_unsubscribe, 0
FROM (SELECT sequence_id, step_id, recipient_id, entered_at, campaign_id, sent_at FROM sillage.sequence_sends FINAL) AS s
LEFT ANY JOIN (
    SELECT campaign_id, recipient_id,
           max(type = 'open' AND class = 'human') AS human_open,
           max(type = 'open' AND class != 'human') AS machine_open,
           minIf(toUnixTimestamp64Milli(ts), type = 'click' AND class = 'human') AS human_click,
           minIf(toUnixTimestamp64Milli(ts), type = 'click' AND class != 'human') AS machine_click,
           max(type = 'unsubscribe' AND class = 'human') AS human_unsubscribe,
           max(type = 'unsubscribe' AND class != 'human') AS machine_unsubscribe
    FROM sillage.events
    WHERE campaign_id IN (SELECT DISTINCT campaign_id FROM sillage.sequence_sends) AND type IN ('open', 'click', 'unsubscribe') AND recipient_id != ''
    GROUP BY campaign_id, recipient_id
) AS f ON f.campaign_id = s.campaign_id AND f.recipient_id = s.recipient_id
WHERE (SELECT count() FROM sillage.sequence_send_facts_cursor) = 0;

-- 3300_sequence_send_facts.sql
INSERT INTO sillage.sequence_send_facts_cursor
SELECT (SELECT max(seq) FROM sillage.events), now64(3)
WHERE (SELECT count() FROM sillage.sequence_send_facts_cursor) = 0;

-- 3300_sequence_send_facts.sql
ALTER TABLE sillage.sequence_enrollments MODIFY SETTING min_age_to_force_merge_seconds = 60;

-- 3400_recipient_recent_sends.sql
CREATE TABLE IF NOT EXISTS sillage.recipient_recent_sends
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sends SimpleAggregateFunction(maxMap, Tuple(Array(UInt64), Array(Int64))) COMMENT 'cityHash64 of each campaign id sent to this recipient in the last 40 days (sorted) and the latest send time of each, epoch ms' CODEC(NONE)
)
ENGINE = ReplicatedAggregatingMergeTree()
ORDER BY recipient_id
TTL toDateTime(intDiv(arrayMax(sends.2), 1000)) + toIntervalDay(40)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 3400_recipient_recent_sends.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.recipient_recent_sends_mv TO sillage.recipient_recent_sends AS
SELECT recipient_id, maxMap(([cityHash64(campaign_id)], [toUnixTimestamp64Milli(sent_at)])) AS sends
FROM sillage.sends
GROUP BY recipient_id;

-- 3400_recipient_recent_sends.sql
INSERT INTO sillage.recipient_recent_sends
WITH toUnixTimestamp64Milli(now64(3)) - 40 * 86400000 AS since
SELECT recipient_id, (arrayMap(c -> cityHash64(c), arrayFilter((c, t) -> t > since, sends.1, sends.2)), arrayFilter(t -> t > since, sends.2)) AS recent
FROM sillage.recipient_sends
WHERE arrayExists(t -> t > since, sends.2);

-- 3500_recipient_engagement_days.sql
CREATE TABLE IF NOT EXISTS sillage.recipient_engagement_days
(
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    days SimpleAggregateFunction(maxMap, Tuple(Array(UInt16), Array(UInt32), Array(Int32))) COMMENT 'Days (since 1970-01-01 UTC, sorted) with a human open or click; per day the latest one''s ms within the day, and minus the first one''s ms within the day',
    last_engaged SimpleAggregateFunction(max, Int64) COMMENT 'Latest human open or click, epoch ms (0: none): a row whose latest is at or before an instant needs no look at its days',
    last_unsubscribe SimpleAggregateFunction(max, Int64) COMMENT 'Latest human unsubscribe, epoch ms (0: none): only for the retention TTL, as recipient_engagement''s'
)
ENGINE = ReplicatedAggregatingMergeTree()
ORDER BY recipient_id;

-- 3500_recipient_engagement_days.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.recipient_engagement_days_mv TO sillage.recipient_engagement_days AS
SELECT recipient_id,
       maxMapIf([toUInt16(intDiv(toUnixTimestamp64Milli(ts), 86400000))], [toUInt32(toUnixTimestamp64Milli(ts) % 86400000)], [toInt32(-(toUnixTimestamp64Milli(ts) % 86400000))], type IN ('open', 'click')) AS days,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type = 'unsubscribe')) AS last_unsubscribe
FROM sillage.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;

-- 3500_recipient_engagement_days.sql
INSERT INTO sillage.recipient_engagement_days
SELECT recipient_id,
       maxMapIf([toUInt16(intDiv(toUnixTimestamp64Milli(ts), 86400000))], [toUInt32(toUnixTimestamp64Milli(ts) % 86400000)], [toInt32(-(toUnixTimestamp64Milli(ts) % 86400000))], type IN ('open', 'click')) AS days,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type IN ('open', 'click'))) AS last_engaged,
       toInt64(maxIf(toUnixTimestamp64Milli(ts), type = 'unsubscribe')) AS last_unsubscribe
FROM sillage.events
WHERE type IN ('open', 'click', 'unsubscribe') AND class = 'human' AND recipient_id != ''
GROUP BY recipient_id;

-- 3600_recipient_send_outcomes.sql
CREATE TABLE IF NOT EXISTS sillage.recipient_send_outcomes
(
    rk UInt64 COMMENT 'cityHash64(recipient_id): the key the conversions are joined on',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sent Array(Int64) COMMENT 'Each sent campaign''s latest send time, epoch ms, ascending',
    campaigns Array(UInt64) COMMENT 'cityHash64 of the campaign id of each send, in the order of sent',
    bits Array(UInt8) COMMENT 'Per send: 1 a human open, 2 a human click, 4 a human unsubscribe of that campaign by this recipient',
    version UInt64 COMMENT 'When the computation of this row started, µs: ReplacingMergeTree keeps the largest'
)
ENGINE = ReplicatedReplacingMergeTree(version)
ORDER BY (rk, recipient_id)
SETTINGS min_age_to_force_merge_seconds = 60;

-- 3600_recipient_send_outcomes.sql
CREATE TABLE IF NOT EXISTS sillage.recipient_send_outcomes_cursor
(
    seq UInt64 COMMENT 'Events with seq at or below this are applied to recipient_send_outcomes',
    at DateTime64(3, 'UTC') COMMENT 'When the cursor moved'
)
ENGINE = ReplicatedReplacingMergeTree(seq)
ORDER BY tuple();

-- 3600_recipient_send_outcomes.sql
INSERT INTO sillage.recipient_send_outcomes
SELECT cityHash64(recipient_id), recipient_id,
       arrayMap(x -> x.1, pairs), arrayMap(x -> x.2, pairs), arrayMap(x -> x.3, pairs), 0
FROM (
    SELECT s.recipient_id,
           arraySort(arrayMap((c, t) -> (t, cityHash64(c), toUInt8(has(e.o, c) + 2 * has(e.k, c) + 4 * has(e.u, c))), s.sends.1, s.sends.2)) AS pairs
    FROM (SELECT recipient_id, sends FROM sillage.recipient_sends FINAL) AS s
    LEFT JOIN (
        SELECT recipient_id, groupArrayArray(opens.1) AS o, groupArrayArray(clicks.1) AS k, groupArrayArray(unsubscribes.1) AS u
        FROM sillage.recipient_engagement GROUP BY recipient_id
    ) AS e ON e.recipient_id = s.recipient_id
) AS p
WHERE (SELECT count() FROM sillage.recipient_send_outcomes_cursor) = 0;

-- 3600_recipient_send_outcomes.sql
INSERT INTO sillage.recipient_send_outcomes_cursor
SELECT (SELECT max(seq) FROM sillage.events), now64(3)
WHERE (SELECT count() FROM sillage.recipient_send_outcomes_cursor) = 0;

-- 3800_sequence_conversions.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_conversions
(
    sequence_id String COMMENT 'Sequence id',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    entered_at DateTime64(3, 'UTC') COMMENT 'The entry (its cohort and the start of the goal''s window)',
    goal String COMMENT 'The goal the row was computed for, kind/window ms (purchase/1209600000): rows of another goal are not read',
    convs Array(Int64) COMMENT 'The goal''s conversions of the recipient from the entry to the end of the window, epoch ms, ascending; empty: none (any more)',
    steps Array(String) COMMENT 'The steps sent to this entry (of sequence_sends), when convs is not empty',
    sent Array(Int64) COMMENT 'When each of steps was sent, epoch ms (same order)',
    version UInt64 COMMENT 'When the computation of this row started, µs: ReplacingMergeTree keeps the largest'
)
ENGINE = ReplicatedReplacingMergeTree(version)
ORDER BY (sequence_id, recipient_id, entered_at);

-- 3800_sequence_conversions.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_conversion_goals
(
    sequence_id String COMMENT 'Sequence id',
    goal String COMMENT 'kind/window ms whose rows are complete; empty: none',
    version UInt64 COMMENT 'When written, µs: the latest wins'
)
ENGINE = ReplicatedReplacingMergeTree(version)
ORDER BY sequence_id;

-- 3800_sequence_conversions.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_conversions_cursor
(
    seq UInt64 COMMENT 'Conversions with seq at or below this are applied to sequence_conversions',
    at DateTime64(3, 'UTC') COMMENT 'When the cursor moved'
)
ENGINE = ReplicatedReplacingMergeTree(seq)
ORDER BY tuple();

-- 3800_sequence_conversions.sql
INSERT INTO sillage.sequence_conversions_cursor
SELECT (SELECT max(seq) FROM sillage.events), now64(3)
WHERE (SELECT count() FROM sillage.sequence_conversions_cursor) = 0;

-- 3900_sequence_funnel_days.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_funnel_days
(
    sequence_id String COMMENT 'Sequence id',
    day Date COMMENT 'UTC day of entry (the entries'' entered_at)',
    spec String COMMENT 'What the row was computed for: the sequence''s creation (epoch ms) and its goal (kind/window ms, empty: none); another is not read',
    computed_at DateTime64(6, 'UTC') COMMENT 'When the computing statement started: ReplacingMergeTree keeps the latest',
    entry_status Array(LowCardinality(String)) COMMENT 'Entries per (status, exit reason, exit step): status',
    entry_reason Array(LowCardinality(String)) COMMENT 'Same groups: exit reason (empty unless exited)',
    entry_step Array(String) COMMENT 'Same groups: the step they were due for when they left (empty unless exited)',
    entry_n Array(UInt64) COMMENT 'Same groups: entries',
    entry_first Array(Int64) COMMENT 'Same groups: the earliest entry time, epoch ms',
    entry_last Array(Int64) COMMENT 'Same groups: the latest entry time, epoch ms',
    entry_times Array(Array(Int64)) COMMENT 'Same groups: entry times, epoch ms (read only when a step''s due time falls between the first and the last)',
    step_id Array(String) COMMENT 'Step sends per (step, campaign when sent): step',
    step_campaign Array(String) COMMENT 'Same groups: the campaign (its events count only while it is a step''s)',
    step_sent Array(UInt64) COMMENT 'Same groups: sends',
    step_human_open Array(UInt64) COMMENT 'Same groups: sends with a human open',
    step_machine_open Array(UInt64) COMMENT 'Same groups: sends with a machine open',
    step_any_open Array(UInt64) COMMENT 'Same groups: sends with either',
    step_human_unsubscribe Array(UInt64) COMMENT 'Same groups: sends with a human unsubscribe',
    step_machine_unsubscribe Array(UInt64) COMMENT 'Same groups: sends with a machine unsubscribe',
    step_any_unsubscribe Array(UInt64) COMMENT 'Same groups: sends with either',
    step_human_click Array(Array(Int64)) COMMENT 'Same groups: per send with a human click, first such click − send, ms',
    step_machine_click Array(Array(Int64)) COMMENT 'Same groups: per send with a machine click, first such click − send, ms',
    step_any_click Array(Array(Int64)) COMMENT 'Same groups: per send with any click, first click − send, ms',
    conversion_ms Array(Int64) COMMENT 'Per entry converted by the goal (spec): first conversion in the window − entry, ms',
    conversion_step Array(String) COMMENT 'Per step sent to converted entries: step',
    conversion_step_ms Array(Array(Int64)) COMMENT 'Same steps: per send followed by a conversion in the window, that conversion − entry, ms'
)
ENGINE = ReplicatedReplacingMergeTree(computed_at)
ORDER BY (sequence_id, day)
SETTINGS index_granularity = 1, min_age_to_force_merge_seconds = 60;

-- 3900_sequence_funnel_days.sql
CREATE TABLE IF NOT EXISTS sillage.sequence_funnel_marks
(
    sequence_id String COMMENT 'Sequence id',
    day Date COMMENT 'UTC day of entry of the rows written',
    marked_at DateTime64(6, 'UTC') COMMENT 'When the write was seen: ReplacingMergeTree keeps the latest'
)
ENGINE = ReplicatedReplacingMergeTree(marked_at)
ORDER BY (sequence_id, day);

-- 3900_sequence_funnel_days.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.sequence_funnel_marks_enrollments_mv TO sillage.sequence_funnel_marks AS
SELECT DISTINCT sequence_id, toDate(entered_at) AS day, now64(6, 'UTC') AS marked_at FROM sillage.sequence_enrollments;

-- 3900_sequence_funnel_days.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.sequence_funnel_marks_send_facts_mv TO sillage.sequence_funnel_marks AS
SELECT DISTINCT sequence_id, toDate(entered_at) AS day, now64(6, 'UTC') AS marked_at FROM sillage.sequence_send_facts;

-- 3900_sequence_funnel_days.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS sillage.sequence_funnel_marks_conversions_mv TO sillage.sequence_funnel_marks AS
SELECT DISTINCT sequence_id, toDate(entered_at) AS day, now64(6, 'UTC') AS marked_at FROM sillage.sequence_conversions;

-- 3900_sequence_funnel_days.sql
INSERT INTO sillage.sequence_funnel_marks
SELECT sequence_id, day, toDateTime64(0, 6, 'UTC') FROM (
    SELECT DISTINCT sequence_id, toDate(entered_at) AS day FROM sillage.sequence_enrollments
    UNION DISTINCT SELECT DISTINCT sequence_id, toDate(entered_at) AS day FROM sillage.sequence_send_facts
    UNION DISTINCT SELECT DISTINCT sequence_id, toDate(entered_at) AS day FROM sillage.sequence_conversions
);

-- 4100_recipient_recent_sends_force_merge.sql
ALTER TABLE sillage.recipient_recent_sends MODIFY SETTING min_age_to_force_merge_seconds = 60;

-- 4300_recipient_engagement_days_force_merge.sql
ALTER TABLE sillage.recipient_engagement_days MODIFY SETTING min_age_to_force_merge_seconds = 600;
