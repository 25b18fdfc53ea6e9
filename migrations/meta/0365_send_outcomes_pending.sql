-- Recipients whose row of ClickHouse's recipient_send_outcomes (migration 3600, the fatigue curve's
-- sends with their outcome bits) is to be recomputed. Queued by a sends call in one insert, done by
-- the catch-up that runs after the answer once sends are quiet and before any read of that table,
-- then deleted (the rows it read); rows left by a crash are done by the next catch-up. A recipient
-- may appear more than once. Small by design (drained within seconds): no index but the key.
CREATE TABLE IF NOT EXISTS "send_outcomes_pending" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"recipient_id" text NOT NULL
);
