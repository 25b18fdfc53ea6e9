-- The sequence funnel (src/metrics/sequence-funnel.ts) per sequence and UTC day of entry: each of its four parts
-- (entries by state, step sends with their opens, clicks and unsubscribes, converted entries, conversions per step)
-- computed for the day's entries and kept, so a read merges a row per day (a few hundred at most) instead of reading
-- every entry and every step send of the sequence. Cohorts (day, week from Monday, month; UTC) are unions of days.
-- Medians stay exact: a row keeps the values (send to first click, entry to conversion), not a summary of them.
-- A row is recomputed whole (src/store/sequence-funnel-days.ts) when its day is dirty: a mark below newer than the
-- row's computation less a margin, or the row computed for another sequence (a deleted one of the same id) or goal.
-- The latest computation wins (computed_at: when the computing statement started).
CREATE TABLE IF NOT EXISTS {db}.sequence_funnel_days
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
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (sequence_id, day)
-- A row per granule: the read of the few days a step's due time falls in reads those rows' entry times only. Kept
-- in one part as the tables it is computed from (migration 3300): FINAL then merges nothing.
SETTINGS index_granularity = 1, min_age_to_force_merge_seconds = 60;

-- Days whose rows above may be out of date: a mark per (sequence, day of entry) written by the views below at every
-- insert into the three tables the funnel reads (their every write is an INSERT: enrolments, exits, completions,
-- step sends' facts, their catch-ups and reclassification's recomputation, the goal's conversions), and by the
-- server after an erasure (ALTER DELETE, which no view sees). The latest mark per day is what counts.
CREATE TABLE IF NOT EXISTS {db}.sequence_funnel_marks
(
    sequence_id String COMMENT 'Sequence id',
    day Date COMMENT 'UTC day of entry of the rows written',
    marked_at DateTime64(6, 'UTC') COMMENT 'When the write was seen: ReplacingMergeTree keeps the latest'
)
ENGINE = ReplacingMergeTree(marked_at)
ORDER BY (sequence_id, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.sequence_funnel_marks_enrollments_mv TO {db}.sequence_funnel_marks AS
SELECT DISTINCT sequence_id, toDate(entered_at) AS day, now64(6, 'UTC') AS marked_at FROM {db}.sequence_enrollments;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.sequence_funnel_marks_send_facts_mv TO {db}.sequence_funnel_marks AS
SELECT DISTINCT sequence_id, toDate(entered_at) AS day, now64(6, 'UTC') AS marked_at FROM {db}.sequence_send_facts;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.sequence_funnel_marks_conversions_mv TO {db}.sequence_funnel_marks AS
SELECT DISTINCT sequence_id, toDate(entered_at) AS day, now64(6, 'UTC') AS marked_at FROM {db}.sequence_conversions;

-- Every day with rows stored before the views existed: each sequence's first funnel read computes them (a day
-- without a row is computed whatever its mark's time, so the mark is dated 1970: once computed, the day is clean,
-- instead of dirty again for the margin after the migration). Run again (a migration cut short), the same marks.
INSERT INTO {db}.sequence_funnel_marks
SELECT sequence_id, day, toDateTime64(0, 6, 'UTC') FROM (
    SELECT DISTINCT sequence_id, toDate(entered_at) AS day FROM {db}.sequence_enrollments
    UNION DISTINCT SELECT DISTINCT sequence_id, toDate(entered_at) AS day FROM {db}.sequence_send_facts
    UNION DISTINCT SELECT DISTINCT sequence_id, toDate(entered_at) AS day FROM {db}.sequence_conversions
);
