-- Links registered by hand had position 0 while a template's start at 1: they now take the next
-- number after their campaign's links, in the order they were registered (one numbering rule).
UPDATE "links" SET "position" = "numbered"."p"
FROM (
  SELECT "l"."id", (SELECT coalesce(max("m"."position"), 0) FROM "links" "m" WHERE "m"."campaign_id" = "l"."campaign_id")
    + row_number() OVER (PARTITION BY "l"."campaign_id" ORDER BY "l"."created_at", "l"."id") AS "p"
  FROM "links" "l"
  WHERE "l"."position" = 0 AND "l"."template_id" IS NULL
) AS "numbered"
WHERE "links"."id" = "numbered"."id";
