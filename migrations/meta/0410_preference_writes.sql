-- Which of a send's recipients may have stored preferences, known without reading the table for all
-- of them (src/store/preference-hint.ts): each process keeps a bitmap of the ids with a row, and
-- reads only the rows written since it last looked. A 10,000-recipient cap check then reads the
-- preferences of the few recipients whose bit is set (usually none) rather than looking 10,000 ids up
-- (~14 ms of PGlite on the check's thread, eleventh session).
-- preference_writes.n counts every write of recipient_preferences; each row keeps the count of its
-- last write (seq). The trigger sets both, so no writer can skip it. Updating the one counter row
-- locks it until the writer commits: writers get their counts in commit order, so a reader that saw
-- n has every row with seq <= n visible. Deletes (erasure) need no count: a bit left set only costs
-- a lookup that finds nothing. Existing rows keep seq 0: a process's first look reads every row.
CREATE TABLE IF NOT EXISTS "preference_writes" (
	"id" integer PRIMARY KEY NOT NULL,
	"n" bigint NOT NULL
);
--> statement-breakpoint
INSERT INTO "preference_writes" ("id", "n") VALUES (1, 0) ON CONFLICT DO NOTHING;
--> statement-breakpoint
ALTER TABLE "recipient_preferences" ADD COLUMN IF NOT EXISTS "seq" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "recipient_preferences_seq" ON "recipient_preferences" USING btree ("seq");
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "recipient_preferences_count_write"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "preference_writes" SET "n" = "n" + 1 WHERE "id" = 1 RETURNING "n" INTO NEW."seq";
  RETURN NEW;
END $$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS "recipient_preferences_count_write" ON "recipient_preferences";
--> statement-breakpoint
CREATE TRIGGER "recipient_preferences_count_write" BEFORE INSERT OR UPDATE ON "recipient_preferences"
FOR EACH ROW EXECUTE FUNCTION "recipient_preferences_count_write"();
