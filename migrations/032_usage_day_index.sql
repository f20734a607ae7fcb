-- Daily and monthly reports sum tokens per (local day, provider, model) over every usage row.
-- A full scan of `usage` reads whole rows (usage key, project, session, timestamp text: ~300
-- bytes each); this index holds just what those sums read (~130 bytes, the primary key
-- included), so the scan touches less than half the pages and never the table. Scope
-- filters still work from it: device_id comes with the primary key. Reports that group by
-- project or session, and the multi-device `all` scope (which compares written_at), scan
-- the table as before.
--
-- It leads with ts_ms, so it also serves every lookup usage_ts served (the data's time
-- span, date ranges): usage_ts goes, and ingest keeps maintaining the same number of indexes.
CREATE INDEX usage_day ON usage(ts_ms, provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens);
DROP INDEX usage_ts;
