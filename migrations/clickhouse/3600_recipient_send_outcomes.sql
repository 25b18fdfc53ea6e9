-- Per recipient, every campaign sent to them (its latest send, as recipient_sends keeps it) with the outcome
-- bits of that send next to it: the fatigue curve (src/metrics/pressure.ts) reads these ~10 M (time, bits)
-- pairs in one pass instead of joining each recipient's sends to their engagement maps on every request
-- (the join and the ~20 M campaign ids it hashed were two thirds of its cost: bench/README.md, "Tenth
-- session: fatigue").
-- A row is the join of the recipient's rows of recipient_sends and recipient_engagement (migrations 2300,
-- 2500), recomputed whole, never patched (src/store/send-outcomes.ts): when sends are recorded (their
-- recipients, src/services/sends.ts), when human opens, clicks or unsubscribes are stored (caught up before
-- each fatigue read: every such event with seq above the cursor below), after reclassification rewrote
-- events.class and recipient_engagement was rebuilt (src/classification/apply.ts), and deleted with the
-- recipient on erasure (src/services/erasure.ts). Retention gives the row recipient_sends' days on its latest
-- send (src/store/retention.ts). The latest computation wins (version: the time the computing query
-- started, in µs); it read a snapshot taken after everything the row depends on.
-- Campaigns are kept as 64-bit hashes (cityHash64 of the id, as the curve compared them before): a category's
-- campaigns are found by their hashes; two ids hash alike with probability ~2⁻⁶⁴ per pair.
CREATE TABLE IF NOT EXISTS {db}.recipient_send_outcomes
(
    rk UInt64 COMMENT 'cityHash64(recipient_id): the key the conversions are joined on',
    recipient_id String COMMENT 'Sender''s opaque recipient id',
    sent Array(Int64) COMMENT 'Each sent campaign''s latest send time, epoch ms, ascending',
    campaigns Array(UInt64) COMMENT 'cityHash64 of the campaign id of each send, in the order of sent',
    bits Array(UInt8) COMMENT 'Per send: 1 a human open, 2 a human click, 4 a human unsubscribe of that campaign by this recipient',
    version UInt64 COMMENT 'When the computation of this row started, µs: ReplacingMergeTree keeps the largest'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (rk, recipient_id)
-- Kept in one part as recipient_sends is (migration 2410): each sends call and each catch-up leaves a small
-- part spread over the whole key range, which FINAL would merge with the large part on every read.
SETTINGS min_age_to_force_merge_seconds = 60;

-- How far the stored events were applied to recipient_send_outcomes: every human open, click and unsubscribe
-- with seq at or below the largest `seq` here (one row per move, merged into the largest).
CREATE TABLE IF NOT EXISTS {db}.recipient_send_outcomes_cursor
(
    seq UInt64 COMMENT 'Events with seq at or below this are applied to recipient_send_outcomes',
    at DateTime64(3, 'UTC') COMMENT 'When the cursor moved'
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY tuple();

-- The sends and events stored before the table existed (guarded by the cursor: done once; a repeat after a
-- crash between the two statements computes the same rows, version 0, under any later computation). The
-- same SELECT as src/store/send-outcomes.ts, over every recipient.
INSERT INTO {db}.recipient_send_outcomes
SELECT cityHash64(recipient_id), recipient_id,
       arrayMap(x -> x.1, pairs), arrayMap(x -> x.2, pairs), arrayMap(x -> x.3, pairs), 0
FROM (
    SELECT s.recipient_id,
           arraySort(arrayMap((c, t) -> (t, cityHash64(c), toUInt8(has(e.o, c) + 2 * has(e.k, c) + 4 * has(e.u, c))), s.sends.1, s.sends.2)) AS pairs
    FROM (SELECT recipient_id, sends FROM {db}.recipient_sends FINAL) AS s
    LEFT JOIN (
        SELECT recipient_id, groupArrayArray(opens.1) AS o, groupArrayArray(clicks.1) AS k, groupArrayArray(unsubscribes.1) AS u
        FROM {db}.recipient_engagement GROUP BY recipient_id
    ) AS e ON e.recipient_id = s.recipient_id
) AS p
WHERE (SELECT count() FROM {db}.recipient_send_outcomes_cursor) = 0;

INSERT INTO {db}.recipient_send_outcomes_cursor
SELECT (SELECT max(seq) FROM {db}.events), now64(3)
WHERE (SELECT count() FROM {db}.recipient_send_outcomes_cursor) = 0;
