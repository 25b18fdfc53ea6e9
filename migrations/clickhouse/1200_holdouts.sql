-- Recipients a sender chose NOT to mail (POST /v1/campaigns/{id}/sends with holdout: true): the control
-- group of a campaign's measured lift (GET /v1/lifecycle/transitions?campaignId=). Apart from `sends` so
-- that no metric built on sends (rates, segments, audience) ever counts them as sent.
CREATE TABLE IF NOT EXISTS {db}.holdouts
(
    campaign_id String COMMENT 'Campaign the recipient was held out of',
    recipient_id String COMMENT 'Sender''s opaque recipient id (the id conversions carry)',
    held_at DateTime64(3, 'UTC') COMMENT 'When the others were sent (the sends call''s sentAt, else receipt time)',
    variant LowCardinality(String) COMMENT 'A/B variant the sender gave, empty when none',
    segments Array(LowCardinality(String)) COMMENT 'Segments the recipient belongs to, as for a send',
    attributes Map(LowCardinality(String), String) COMMENT 'Free attributes, as for a send',
    INDEX idx_recipient recipient_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(held_at)
ORDER BY (campaign_id, recipient_id)
SETTINGS non_replicated_deduplication_window = 10000;
