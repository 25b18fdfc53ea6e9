-- Per (campaign, recipient, type, class): event count, first and last time. The metrics that
-- work per recipient (stats, segments, compare, projection, timing) read this instead of every
-- event: about 7 times fewer rows on the benchmark (1 M events per campaign → ~150 k). A
-- projection rather than a materialized view because it stays right through the ALTER TABLE …
-- UPDATE of reclassification and the ALTER TABLE … DELETE of erasure, which rewrite it with the part.
ALTER TABLE {db}.events ADD PROJECTION IF NOT EXISTS p_recipient_facts
(
    SELECT campaign_id, recipient_id, type, class, count(), min(ts), max(ts)
    GROUP BY campaign_id, recipient_id, type, class
);

-- Builds it for the parts written before this migration (a mutation; new parts get it on insert).
ALTER TABLE {db}.events MATERIALIZE PROJECTION p_recipient_facts SETTINGS mutations_sync = 2;
