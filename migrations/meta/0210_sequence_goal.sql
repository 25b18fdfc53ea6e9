ALTER TABLE "sequence_enrollments" ADD COLUMN IF NOT EXISTS "goal_at" timestamp with time zone;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sequence_goal_cursor" (
	"id" integer PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL
);
--> statement-breakpoint
INSERT INTO "sequence_goal_cursor" ("id", "seq") VALUES (1, -1) ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "sequence_goal_recipients" (
	"recipient_id" text PRIMARY KEY NOT NULL
);
