-- Recipients whose rows of ClickHouse's recipient_send_outcomes (migration 3600, the fatigue curve's
-- sends with their outcome bits) are to be recomputed: one row per sends call, its recipients in one
-- array (a single tuple written: a row per recipient cost 45-120 ms of CPU for 10,000 on PGlite). Done
-- by the catch-up that runs after the answer once sends are quiet and before any read of that table,
-- then deleted (the rows it read); rows left by a crash are done by the next catch-up. Small by design
-- (drained within seconds): no index but the key.
CREATE TABLE IF NOT EXISTS "send_outcomes_pending" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"recipient_ids" text[] NOT NULL
);
