ALTER TABLE "sequence_goal_cursor" ADD COLUMN IF NOT EXISTS "event_id" text;
