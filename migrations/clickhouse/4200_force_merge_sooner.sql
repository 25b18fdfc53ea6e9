-- recipient_sends and recipient_send_outcomes merged into one part within seconds of a sends call instead
-- of a minute (migrations 2410, 3600 forced a merge of parts older than 60 s). Each sends call leaves a
-- small part spread over every key in both (the view on sends; the catch-up after the answer), and until
-- it is merged the reads that need one row per recipient merge it on the fly: right after a call of
-- 10,000 recipients the P7D distribution went 131 → 409 ms, the fatigue curve 395 → 781 ms, for the whole
-- minute (bench/pressure.ts "after a sends call", bench/README.md, eleventh session).
-- A part is now forced into the merge once a second old; the engine's merge scheduling then does it in
-- 7–9 s after the call on 1 M recipients (12–26 s on a loaded machine), in its background threads (no query waits for it: an OPTIMIZE
-- instead would hold chDB's one query slot for the whole merge, 2.7 s here). What it costs: the same
-- merge per call as before, only earlier; but calls posted back to back for longer than a merge no longer
-- share one merge at the end: each merge takes the parts old enough when it starts (≈ 1.9 s of CPU for
-- recipient_sends, 0.7 s for recipient_send_outcomes, per merge at 1 M recipients). Only a setting
-- changes (re-runnable; nothing to backfill).
ALTER TABLE {db}.recipient_sends MODIFY SETTING min_age_to_force_merge_seconds = 1;
ALTER TABLE {db}.recipient_send_outcomes MODIFY SETTING min_age_to_force_merge_seconds = 1;
