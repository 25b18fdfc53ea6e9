-- recipient_sends kept in one part: a part older than a minute is merged with the others. Sends come in
-- bursts (a campaign's send), and each burst leaves a small part of its recipients beside the large one;
-- ClickHouse's usual merge policy leaves such parts alone for long (they are small next to the large
-- part), and every read WITH FINAL (the pressure distribution, the engagement status's sends side) then
-- merges the whole table on the fly: P7D distribution 71 → 890 ms with three 10,000-recipient parts
-- beside 1 M rows (bench/pressure.ts, bench/README.md). A forced merge rewrites the table once per
-- burst (≈ 200 MB at 1 M recipients, a few seconds of one core in the background).
ALTER TABLE {db}.recipient_sends MODIFY SETTING min_age_to_force_merge_seconds = 60;
