-- The heap of sequence_enrollments rewritten once in due order (sequence, due time, recipient: the
-- order of the partial index sequence_enrollments_due that `due` pages through), so that a page of
-- due rows sits on a few hundred table pages instead of one page per row (PGlite reads a page in
-- ~30-45 µs of CPU). Rows written afterwards go at the end in the order their due time is set
-- (enrolment, a step marked sent; PGlite never vacuums, so it has no free space to fill elsewhere),
-- which keeps each step's due rows together. CLUSTER needs a full index: a temporary one, dropped after.
CREATE INDEX IF NOT EXISTS "sequence_enrollments_due_order" ON "sequence_enrollments" USING btree ("sequence_id","due_at","recipient_id");
--> statement-breakpoint
CLUSTER "sequence_enrollments" USING "sequence_enrollments_due_order";
--> statement-breakpoint
DROP INDEX IF EXISTS "sequence_enrollments_due_order";
