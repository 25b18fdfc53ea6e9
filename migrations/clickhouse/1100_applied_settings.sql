-- Schema settings the server applies at start from its configuration (the retention TTLs), with the
-- statement last applied: a restart with the same configuration alters nothing, a changed one alters once.
CREATE TABLE IF NOT EXISTS {db}.applied_settings
(
    name String COMMENT 'What was applied: events_ttl, sends_ttl',
    value String COMMENT 'The TTL clause applied (empty: none); compared with the one the configuration gives',
    applied_at DateTime64(3, 'UTC') COMMENT 'When it was applied; the latest row of a name wins'
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY name;
