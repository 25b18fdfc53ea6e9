-- recipient_engagement_days (migration 3500, what the engagement counts over every campaign read) kept near
-- one part: a part older than ten minutes is merged with the others. The view on events adds a part with
-- every batch, and the usual merge policy leaves large parts apart for long: on the pressure bench (1 M
-- recipients, 600 k engaged) the table held 1.23 M rows in three parts, about two rows per recipient, and
-- the counts' one aggregation by recipient (sends and engagement rows together) hashed every one of them:
-- the counts at the history's end 292 ms median, 245-276 with the table in one part (bench/README.md,
-- twelfth session). Ten minutes rather than recipient_sends' one (migration 2410): events arrive all the
-- time, not in bursts, and a part just merged is young again, so the large part is rewritten at most once
-- in ten minutes (≈ 600 k rows, ~3 s for a whole OPTIMIZE on the bench) in the engine's background threads.
ALTER TABLE {db}.recipient_engagement_days MODIFY SETTING min_age_to_force_merge_seconds = 600;
