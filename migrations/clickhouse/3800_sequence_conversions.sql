-- Per entry of a sequence, the goal's conversions that fall in the goal's window after the entry, kept with
-- the entry: the funnel (src/metrics/sequence-funnel.ts) reads these rows (a few per cent of the entries)
-- instead of joining every entry and every step send to the goal's conversions read from the events per call;
-- a converted entry's row carries its step sends, so the conversions per step read these rows only.
-- The goal (kind, window) lives in the metadata store, so rows are computed by the server, not here
-- (src/store/sequence-conversions.ts), whole and never patched: for a sequence whose goal has no complete
-- rows yet (sequence_conversion_goals below: the first funnel read after this migration or after a change
-- of goal), for the recipients of conversions stored since the cursor below (before each funnel read), for
-- entries written by an enrolment, for a converted entry sent a step, and deleted with the recipient on erasure and with the sequence.
-- The latest computation wins (version: the time the computing query started, in µs).
CREATE TABLE IF NOT EXISTS {db}.sequence_conversions
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
ENGINE = ReplacingMergeTree(version)
ORDER BY (sequence_id, recipient_id, entered_at);

-- Per sequence, the goal whose rows in sequence_conversions are complete ('' while a change of goal is
-- being written: the next funnel read computes the sequence's rows again).
CREATE TABLE IF NOT EXISTS {db}.sequence_conversion_goals
(
    sequence_id String COMMENT 'Sequence id',
    goal String COMMENT 'kind/window ms whose rows are complete; empty: none',
    version UInt64 COMMENT 'When written, µs: the latest wins'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY sequence_id;

-- How far the stored conversions were applied to sequence_conversions: every conversion with seq at or
-- below the largest `seq` here (one row per move; concurrent movers compute the same rows).
CREATE TABLE IF NOT EXISTS {db}.sequence_conversions_cursor
(
    seq UInt64 COMMENT 'Conversions with seq at or below this are applied to sequence_conversions',
    at DateTime64(3, 'UTC') COMMENT 'When the cursor moved'
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY tuple();

-- Conversions stored before the table existed are read by each sequence's first computation (its goal
-- has no row above yet), so the cursor starts at the events stored so far. Done once.
INSERT INTO {db}.sequence_conversions_cursor
SELECT (SELECT max(seq) FROM {db}.events), now64(3)
WHERE (SELECT count() FROM {db}.sequence_conversions_cursor) = 0;
