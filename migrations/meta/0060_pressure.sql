CREATE TABLE IF NOT EXISTS "pressure_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"max" integer NOT NULL,
	"window_days" integer NOT NULL,
	"category" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pressure_rules_max" CHECK ("pressure_rules"."max" > 0),
	CONSTRAINT "pressure_rules_window" CHECK ("pressure_rules"."window_days" > 0)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "recipient_preferences" (
	"recipient_id" text PRIMARY KEY NOT NULL,
	"categories" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_per_window" integer,
	"window_days" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "preference_changes" (
	"id" text PRIMARY KEY NOT NULL,
	"recipient_id" text NOT NULL,
	"campaign_id" text,
	"source" text NOT NULL,
	"fewer" boolean NOT NULL,
	"before" jsonb NOT NULL,
	"after" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "preference_changes_campaign" ON "preference_changes" USING btree ("campaign_id","at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "preference_changes_recipient" ON "preference_changes" USING btree ("recipient_id");
