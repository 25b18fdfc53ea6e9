ALTER TABLE "links" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "disabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "fallback_url" text;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "original_url" text;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE "links" SET "updated_at" = "created_at";--> statement-breakpoint
CREATE INDEX "links_updated" ON "links" USING btree ("updated_at");--> statement-breakpoint
CREATE TABLE "link_changes" (
	"link_id" text NOT NULL,
	"version" integer NOT NULL,
	"api_key_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"old_url" text NOT NULL,
	"new_url" text NOT NULL,
	"disabled" boolean NOT NULL,
	"fallback_url" text,
	CONSTRAINT "link_changes_link_id_version_pk" PRIMARY KEY("link_id","version")
);--> statement-breakpoint
ALTER TABLE "link_changes" ADD CONSTRAINT "link_changes_link_id_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE TABLE "tracking_domains" (
	"host" text PRIMARY KEY NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE UNIQUE INDEX "tracking_domains_one_default" ON "tracking_domains" USING btree ("is_default") WHERE "tracking_domains"."is_default";
