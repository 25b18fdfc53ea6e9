-- recipient_recent_sends (migration 3400, the cap check's table) kept in one part like recipient_sends
-- (migration 2410): a part older than a minute is merged with the others. Each sends call leaves a part of
-- its recipients beside the large one, and the usual merge policy leaves such parts alone for long; the
-- cap check merges every part's rows of its 10,000 recipients on the fly. On the pressure bench (1 M
-- recipients, five parts after the bench's sends calls) a check with all 10,000 held cost 164-175 ms CPU
-- (101-105 ms wall, quiet), 111-118 (90-96) right after the parts were merged by hand; later runs with one
-- part (and more campaigns per held recipient) 131-170 (98-108): fewer rows to merge, not the whole gap
-- (bench/README.md, eleventh session). The forced merge rewrites the table (≈ 1 M rows, 0.6 s here) at
-- most about once a minute of sends calls, in the engine's background threads.
ALTER TABLE {db}.recipient_recent_sends MODIFY SETTING min_age_to_force_merge_seconds = 60;
