-- The outbox's order: a sequence the writer assigns at insert (batch number << 17 | row in the batch),
-- so a consumer's cursor is never jumped by a late arrival, as it would be on ts.
ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS seq UInt64 DEFAULT 0 COMMENT 'Insert order: writer batch << 17 | row in batch; 0 for rows inserted before the outbox existed';

-- seq grows with insert time, so a part (and, after merges, a granule) covers a narrow range: a cursor read skips the rest.
ALTER TABLE {db}.events ADD INDEX IF NOT EXISTS idx_seq seq TYPE minmax GRANULARITY 1;

ALTER TABLE {db}.events MATERIALIZE INDEX idx_seq;

-- Events the outbox derives (a verdict changed, a recipient entered a trigger's audience): delivered and streamed like tracked ones.
CREATE TABLE IF NOT EXISTS {db}.outbox_events
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
ENGINE = MergeTree
ORDER BY seq
SETTINGS non_replicated_deduplication_window = 10000;
