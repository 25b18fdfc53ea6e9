-- Exits marked by `due`, waiting to be written to ClickHouse's sequence_enrollments (the funnel's and
-- the timeline's history). Inserted by the statement that marks the exits (a mark is never without
-- its row), read in id order by the catch-up that runs after the answer and before any read of the
-- mirror, deleted once ClickHouse has them; rows left by a crash are written by the next catch-up.
-- Small by design (drained within moments): no index but the key.
CREATE TABLE IF NOT EXISTS "sequence_mirror_pending" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"sequence_id" text NOT NULL REFERENCES "sequences"("id") ON DELETE CASCADE,
	"recipient_id" text NOT NULL,
	"entered_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"exit_reason" text,
	"exit_step_id" text,
	"exited_at" timestamp with time zone,
	"version" bigint NOT NULL
);
