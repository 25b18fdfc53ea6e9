-- recipient_sends' maps stored uncompressed: every reader of the table decodes the whole column
-- (1 M recipients, 10 M sends: 196 MB as stored, 82 MB with LZ4), and LZ4's decompression was half
-- of that work (a full read 117 → 63 ms of CPU). With the mapped read of src/metrics/pressure.ts the
-- cap check of a 10,000-recipient send went from ≈ 400 to 233–268 ms of CPU at load 13 (bench/pressure.ts,
-- bench/README.md). A keyed read of only the recipients' granules does not help: 10,000 recipients
-- among 1 M fall in every granule down to ~200 rows per granule, and with 16-row granules the ~9,000
-- separate ranges cost more than the whole column (measured, same README).
-- The cost is disk: +114 MB per 10 M sends. Only the codec changes (same name, columns, order key,
-- view, TTL and erasure).
ALTER TABLE {db}.recipient_sends MODIFY COLUMN sends SimpleAggregateFunction(maxMap, Tuple(Array(String), Array(Int64)))
    COMMENT 'Campaign ids sent to this recipient (sorted) and the latest send time of each, epoch ms' CODEC(NONE);

-- The parts written before: a mutation rewrites the column alone with the new codec (≈ 1 s for 1 M
-- recipients; nothing to do on an empty table; running it again rewrites the same values).
ALTER TABLE {db}.recipient_sends UPDATE sends = sends WHERE true SETTINGS mutations_sync = 2;
