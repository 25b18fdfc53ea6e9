CREATE TABLE "sequences" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"steps" jsonb NOT NULL,
	"exit_on" text[] NOT NULL,
	"goal" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sequence_enrollments" (
	"sequence_id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"entered_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"reached_ms" bigint DEFAULT -1 NOT NULL,
	"next_step_id" text,
	"due_at" timestamp with time zone,
	"exit_reason" text,
	"exit_step_id" text,
	"exited_at" timestamp with time zone,
	"sent" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"variant" text,
	"segments" text[],
	"attributes" jsonb,
	CONSTRAINT "sequence_enrollments_sequence_id_recipient_id_pk" PRIMARY KEY("sequence_id","recipient_id"),
	CONSTRAINT "sequence_enrollments_status" CHECK ("sequence_enrollments"."status" in ('active', 'completed', 'exited'))
);
--> statement-breakpoint
CREATE TABLE "recipient_erasures" (
	"recipient_id" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sequence_enrollments" ADD CONSTRAINT "sequence_enrollments_sequence_id_sequences_id_fk" FOREIGN KEY ("sequence_id") REFERENCES "public"."sequences"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sequence_enrollments_due" ON "sequence_enrollments" USING btree ("sequence_id","due_at","recipient_id") WHERE "sequence_enrollments"."status" = 'active';--> statement-breakpoint
CREATE INDEX "sequence_enrollments_recipient" ON "sequence_enrollments" USING btree ("recipient_id");
