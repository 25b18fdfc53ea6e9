CREATE TABLE IF NOT EXISTS "dashboard_signouts" (
	"nonce" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "dashboard_signouts_expires" ON "dashboard_signouts" USING btree ("expires_at");