-- Sequences (drip series): the metadata store holds each recipient's current place (what `due` reads);
-- these two tables are what the funnel reads next to the events, written by the same calls.

-- Every entry of a recipient into a sequence and how it ended; a re-entry is a new row (another entered_at).
-- Rewritten with a larger version whenever the entry changes (exit, completion), the latest version wins.
CREATE TABLE IF NOT EXISTS {db}.sequence_enrollments
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
ENGINE = ReplacingMergeTree(version)
ORDER BY (sequence_id, recipient_id, entered_at)
SETTINGS non_replicated_deduplication_window = 10000;

-- One row per step sent to an entry (recorded by POST /campaigns/:id/sends or /render with `sequence`).
-- Only the first send of a step marks it (the metadata store says which); a retried insert of it is the same row.
CREATE TABLE IF NOT EXISTS {db}.sequence_sends
(
    sequence_id String COMMENT 'Sequence id',
    step_id String COMMENT 'Step id within the sequence',
    campaign_id String COMMENT 'The step''s campaign (its opens and clicks are the step''s)',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    entered_at DateTime64(3, 'UTC') COMMENT 'The entry this send belongs to (its cohort)',
    sent_at DateTime64(3, 'UTC') COMMENT 'When the step was sent',
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
ORDER BY (sequence_id, step_id, recipient_id, entered_at)
SETTINGS non_replicated_deduplication_window = 10000;
