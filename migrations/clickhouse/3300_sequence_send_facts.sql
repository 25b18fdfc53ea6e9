-- Per step send, the opens, clicks and unsubscribes of the step's campaign by that recipient, kept with
-- the send: the funnel (src/metrics/sequence-funnel.ts) counts them in one pass over these rows instead
-- of probing every send into sets of openers and a join to the clickers built from the events per call.
-- A row is recomputed whole from sequence_sends and events (src/store/sequence-facts.ts), never patched:
-- when sends are recorded (their campaign and recipients), when opens, clicks or unsubscribes of a step
-- campaign are stored (applied before each funnel read: every such event with seq above the cursor below),
-- after reclassification rewrote events.class (src/classification/apply.ts), and deleted with the
-- recipient on erasure and with the sequence. The latest computation wins (version: the time the
-- computing query started, in µs); it read a snapshot taken after everything the row depends on.
CREATE TABLE IF NOT EXISTS {db}.sequence_send_facts
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
ENGINE = ReplacingMergeTree(version)
ORDER BY (sequence_id, step_id, recipient_id, entered_at)
-- Kept in one part as recipient_sends is (migration 2410): each send recorded and each catch-up leaves a small
-- part whose recipients spread over the whole key range, and the funnel's FINAL would merge the large part
-- with it on every read (the backfill alone: 3 parts, facts FINAL 360 against 100 ms CPU without).
SETTINGS min_age_to_force_merge_seconds = 60;

-- How far the stored events were applied to sequence_send_facts: every open, click and unsubscribe with
-- seq at or below the largest `seq` here (one row per move, merged into the largest; concurrent movers
-- compute the same rows).
CREATE TABLE IF NOT EXISTS {db}.sequence_send_facts_cursor
(
    seq UInt64 COMMENT 'Events with seq at or below this are applied to sequence_send_facts',
    at DateTime64(3, 'UTC') COMMENT 'When the cursor moved'
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY tuple();

-- The sends and events stored before the table existed (guarded by the cursor: done once; a repeat after
-- a crash between the two statements computes the same rows, version 0, under any later computation).
INSERT INTO {db}.sequence_send_facts
SELECT s.sequence_id, s.step_id, s.recipient_id, s.entered_at, s.campaign_id, s.sent_at,
       f.human_open, f.machine_open, f.human_click, f.machine_click, f.human_unsubscribe, f.machine_unsubscribe, 0
FROM (SELECT sequence_id, step_id, recipient_id, entered_at, campaign_id, sent_at FROM {db}.sequence_sends FINAL) AS s
LEFT ANY JOIN (
    SELECT campaign_id, recipient_id,
           max(type = 'open' AND class = 'human') AS human_open,
           max(type = 'open' AND class != 'human') AS machine_open,
           minIf(toUnixTimestamp64Milli(ts), type = 'click' AND class = 'human') AS human_click,
           minIf(toUnixTimestamp64Milli(ts), type = 'click' AND class != 'human') AS machine_click,
           max(type = 'unsubscribe' AND class = 'human') AS human_unsubscribe,
           max(type = 'unsubscribe' AND class != 'human') AS machine_unsubscribe
    FROM {db}.events
    WHERE campaign_id IN (SELECT DISTINCT campaign_id FROM {db}.sequence_sends) AND type IN ('open', 'click', 'unsubscribe') AND recipient_id != ''
    GROUP BY campaign_id, recipient_id
) AS f ON f.campaign_id = s.campaign_id AND f.recipient_id = s.recipient_id
WHERE (SELECT count() FROM {db}.sequence_send_facts_cursor) = 0;

INSERT INTO {db}.sequence_send_facts_cursor
SELECT (SELECT max(seq) FROM {db}.events), now64(3)
WHERE (SELECT count() FROM {db}.sequence_send_facts_cursor) = 0;

-- The entries the funnel reads WITH FINAL too, kept in one part the same way: enrolments, exits and
-- completions are mirrored in bursts, and the bench's 1.9 M entries sat in 4 parts (FINAL merged them per read).
ALTER TABLE {db}.sequence_enrollments MODIFY SETTING min_age_to_force_merge_seconds = 60;
