-- An event's identity (uid) is a SHA-256. It was kept as 64 hex characters; it is now the 32 bytes
-- themselves: ~64 bytes less per event in the row and the uid index. The code still speaks hex:
-- writers bind unhex(?), readers select lower(hex(...)); the wire format is unchanged
-- (src/store/rows.ts). The column is renamed as well, so that SQL still writing hex fails instead of
-- adding a second row for an event it cannot find: a sync daemon of the previous version, started
-- before the upgrade, keeps its statements (they are prepared again against this schema, and stop).
-- The index and triggers follow the rename. A value that is not hex (no writer makes one) is left
-- as it was rather than lost.
--
-- Each event's content hash (chash, 64 more characters) goes: a writer now tells a changed event
-- from one read again by comparing the stored columns (CONTENT_COLUMNS in src/store/rows.ts), and
-- every ingest and pull no longer serializes and hashes every event to fill it.

ALTER TABLE events DROP COLUMN chash;
ALTER TABLE events RENAME COLUMN uid TO uid_bytes;
UPDATE events SET uid_bytes = coalesce(unhex(uid_bytes), uid_bytes) WHERE typeof(uid_bytes) = 'text';

-- 035's view, with the line's own key spelt in hex as before.
DROP VIEW billed_lines;
CREATE VIEW billed_lines AS
  SELECT id AS event_id, device_id, provider, project, session_id, ts, ts_ms, model,
    CASE
      WHEN provider <> 'claude' OR substr(usage_key, 1, 2) IN ('m:', 'r:') THEN usage_key
      WHEN json_valid(extra) AND json_type(extra, '$.messageId') = 'text' AND json_extract(extra, '$.messageId') <> '' THEN 'm:' || json_extract(extra, '$.messageId')
      WHEN json_valid(extra) AND json_type(extra, '$.requestId') = 'text' AND json_extract(extra, '$.requestId') <> '' THEN 'r:' || json_extract(extra, '$.requestId')
      WHEN substr(usage_key, 1, 4) = 'uid:' THEN usage_key
      ELSE 'uid:' || lower(hex(uid_bytes))
    END AS usage_key,
    input_tokens, output_tokens, cache_creation_tokens,
    CASE WHEN instr(extra, '"cache1hTokens":') > 0 AND json_valid(extra) AND json_type(extra, '$.cache1hTokens') = 'integer'
      THEN MIN(MAX(json_extract(extra, '$.cache1hTokens'), 0), cache_creation_tokens) ELSE 0 END AS cache_1h_tokens,
    cache_read_tokens, reasoning_tokens, total_tokens
  FROM events WHERE has_usage = 1 AND usage_key IS NOT NULL;
