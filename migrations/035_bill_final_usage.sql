-- Billing by the rule of docs/numbers.md ("How we count"): a response is billed once, under its
-- billing identity (Claude: message.id, else requestId, else the line), at the per-field
-- MAXIMUM of the usage its lines report, dated by its EARLIEST line and attributed to that
-- line's session and project. Max and min do not depend on order, so ingest order, appends and
-- pull order give the same numbers. This migration re-bills every event already in the store,
-- this device's and its peers', from the events themselves.
--
-- `usage`: one row per (usage key, device): the device's bill, for the `local` and `device`
-- scopes. `usage_union`: one row per usage key, the same rule over every device's lines
-- (the max of the per-device maxima, the earliest of their earliest lines): the `all`
-- scope. It is kept once the store holds a second device (meta usage_union = '1'); until then
-- `all` is `local`. Each has 15-minute slots (migration 034's reasoning) kept exact by triggers.

DROP TRIGGER IF EXISTS events_usage_au;
DROP TRIGGER IF EXISTS usage_slots_ai;
DROP TRIGGER IF EXISTS usage_shared_ai;
DROP TRIGGER IF EXISTS usage_slots_au;
DROP TRIGGER IF EXISTS usage_slots_ad;
DROP VIEW IF EXISTS usage_slot_rows;
DROP TABLE IF EXISTS usage_shared;
DROP TABLE IF EXISTS usage_slots;
DROP TABLE usage;

-- What one event bills, before the max: its billing key and the 1-hour part of its cache writes.
-- Claude keys written by earlier versions (`message.id:requestId`, or `uid:` for a line lacking
-- either) are re-derived from the ids every Claude event keeps in `extra`, so old stores and
-- peers still on an old version bill by the same identity. The 1-hour split travels in
-- `extra.cache1hTokens` (wire unchanged); anything but a count there counts as none.
CREATE VIEW billed_lines AS
  SELECT id AS event_id, device_id, provider, project, session_id, ts, ts_ms, model,
    CASE
      WHEN provider <> 'claude' OR substr(usage_key, 1, 2) IN ('m:', 'r:') THEN usage_key
      WHEN json_valid(extra) AND json_type(extra, '$.messageId') = 'text' AND json_extract(extra, '$.messageId') <> '' THEN 'm:' || json_extract(extra, '$.messageId')
      WHEN json_valid(extra) AND json_type(extra, '$.requestId') = 'text' AND json_extract(extra, '$.requestId') <> '' THEN 'r:' || json_extract(extra, '$.requestId')
      WHEN substr(usage_key, 1, 4) = 'uid:' THEN usage_key
      ELSE 'uid:' || uid
    END AS usage_key,
    input_tokens, output_tokens, cache_creation_tokens,
    CASE WHEN instr(extra, '"cache1hTokens":') > 0 AND json_valid(extra) AND json_type(extra, '$.cache1hTokens') = 'integer'
      THEN MIN(MAX(json_extract(extra, '$.cache1hTokens'), 0), cache_creation_tokens) ELSE 0 END AS cache_1h_tokens,
    cache_read_tokens, reasoning_tokens, total_tokens
  FROM events WHERE has_usage = 1 AND usage_key IS NOT NULL;

CREATE TABLE usage (
  usage_key   TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  event_id    INTEGER NOT NULL,   -- the earliest line (its session, project, model and time bill)
  provider    TEXT NOT NULL,
  project     TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  ts          TEXT NOT NULL,
  ts_ms       INTEGER NOT NULL,
  model       TEXT,
  input_tokens          INTEGER NOT NULL,   -- each count: the max over the key's lines
  output_tokens         INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,   -- 5-minute and 1-hour writes together
  cache_1h_tokens       INTEGER NOT NULL,   -- of which 1-hour writes
  cache_read_tokens     INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  total_tokens          INTEGER NOT NULL,
  PRIMARY KEY (usage_key, device_id)
) WITHOUT ROWID;
CREATE INDEX usage_device_ts ON usage(device_id, ts_ms);
-- What the day sums and slot rebuilds read, ts_ms first (migration 032's reasoning).
CREATE INDEX usage_day ON usage(ts_ms, provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens);

CREATE TABLE usage_union (
  usage_key   TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL,      -- the device of the earliest line
  event_id    INTEGER NOT NULL,
  provider    TEXT NOT NULL,
  project     TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  ts          TEXT NOT NULL,
  ts_ms       INTEGER NOT NULL,
  model       TEXT,
  input_tokens          INTEGER NOT NULL,
  output_tokens         INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
  cache_1h_tokens       INTEGER NOT NULL,
  cache_read_tokens     INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  total_tokens          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX union_day ON usage_union(ts_ms, provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens);

-- The union row of each key from the per-device rows. "Earliest" is (has a time, time,
-- session id, project, device id): a resumed session repeats the original's timestamps under
-- a new session id, so the tie needs a rule every device applies alike.
CREATE VIEW usage_union_rows AS
  SELECT f.usage_key, f.device_id, f.event_id, f.provider, f.project, f.session_id, f.ts, f.ts_ms, f.model,
    m.input_tokens, m.output_tokens, m.cache_creation_tokens, m.cache_1h_tokens, m.cache_read_tokens, m.reasoning_tokens, m.total_tokens
  FROM (SELECT usage_key, MAX(input_tokens) AS input_tokens, MAX(output_tokens) AS output_tokens,
          MAX(cache_creation_tokens) AS cache_creation_tokens, MAX(cache_1h_tokens) AS cache_1h_tokens,
          MAX(cache_read_tokens) AS cache_read_tokens, MAX(reasoning_tokens) AS reasoning_tokens, MAX(total_tokens) AS total_tokens
        FROM usage GROUP BY usage_key) m
  JOIN usage f ON f.usage_key = m.usage_key AND f.device_id = (
    SELECT v.device_id FROM usage v WHERE v.usage_key = m.usage_key
    ORDER BY v.ts_ms = 0, v.ts_ms, v.session_id, v.project, v.device_id LIMIT 1);

-- Re-bill every event: per device, max per field, earliest line (ties: session, project, row).
INSERT INTO usage(usage_key, device_id, event_id, provider, project, session_id, ts, ts_ms, model,
    input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens, total_tokens)
  SELECT usage_key, device_id, event_id, provider, project, session_id, ts, ts_ms, model,
    mi, mo, mcc, mc1, mcr, mrs, mt
  FROM (SELECT b.*, ROW_NUMBER() OVER (k ORDER BY b.ts_ms = 0, b.ts_ms, b.session_id, b.project, b.event_id) AS rn,
          MAX(b.input_tokens) OVER k AS mi, MAX(b.output_tokens) OVER k AS mo, MAX(b.cache_creation_tokens) OVER k AS mcc,
          MAX(b.cache_1h_tokens) OVER k AS mc1, MAX(b.cache_read_tokens) OVER k AS mcr, MAX(b.reasoning_tokens) OVER k AS mrs,
          MAX(b.total_tokens) OVER k AS mt
        FROM billed_lines b WINDOW k AS (PARTITION BY b.usage_key, b.device_id))
  WHERE rn = 1;

INSERT OR REPLACE INTO meta(key, value)
  SELECT 'usage_union', '1' WHERE EXISTS (SELECT 1 FROM events WHERE device_id <> (SELECT value FROM meta WHERE key = 'device_id'));
INSERT INTO usage_union SELECT * FROM usage_union_rows WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'usage_union' AND value = '1');

-- Billing new lines: `INSERT INTO bill_in SELECT * FROM billed_lines WHERE ...` merges each
-- line into its device's bill (max per field; the earliest line's time, session, project and
-- model). Set-based callers (src/store/events.ts) and the trigger on changed events share it.
CREATE VIEW bill_in AS SELECT * FROM billed_lines WHERE 0;
CREATE TRIGGER bill_in_merge INSTEAD OF INSERT ON bill_in BEGIN
  INSERT INTO usage(usage_key, device_id, event_id, provider, project, session_id, ts, ts_ms, model,
      input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens, total_tokens)
    VALUES (NEW.usage_key, NEW.device_id, NEW.event_id, NEW.provider, NEW.project, NEW.session_id, NEW.ts, NEW.ts_ms, NEW.model,
      NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_1h_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens, NEW.total_tokens)
  ON CONFLICT(usage_key, device_id) DO UPDATE SET
    event_id   = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.event_id ELSE event_id END,
    provider   = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.provider ELSE provider END,
    project    = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.project ELSE project END,
    session_id = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.session_id ELSE session_id END,
    ts         = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.ts ELSE ts END,
    ts_ms      = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.ts_ms ELSE ts_ms END,
    model      = CASE WHEN (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id) THEN excluded.model ELSE model END,
    input_tokens = MAX(input_tokens, excluded.input_tokens), output_tokens = MAX(output_tokens, excluded.output_tokens),
    cache_creation_tokens = MAX(cache_creation_tokens, excluded.cache_creation_tokens), cache_1h_tokens = MAX(cache_1h_tokens, excluded.cache_1h_tokens),
    cache_read_tokens = MAX(cache_read_tokens, excluded.cache_read_tokens), reasoning_tokens = MAX(reasoning_tokens, excluded.reasoning_tokens),
    total_tokens = MAX(total_tokens, excluded.total_tokens)
  -- A line that neither raises a count nor is earlier changes nothing (and touches no slot).
  WHERE (excluded.ts_ms = 0, excluded.ts_ms, excluded.session_id, excluded.project, excluded.event_id) < (usage.ts_ms = 0, usage.ts_ms, usage.session_id, usage.project, usage.event_id)
    OR excluded.input_tokens > usage.input_tokens OR excluded.output_tokens > usage.output_tokens
    OR excluded.cache_creation_tokens > usage.cache_creation_tokens OR excluded.cache_1h_tokens > usage.cache_1h_tokens
    OR excluded.cache_read_tokens > usage.cache_read_tokens OR excluded.reasoning_tokens > usage.reasoning_tokens
    OR excluded.total_tokens > usage.total_tokens;
END;

-- Re-deriving union rows: `INSERT INTO union_in(usage_key) ...` recomputes each key's union row
-- from its per-device bills (a primary-key range), writing only when it changed.
CREATE VIEW union_in AS SELECT usage_key FROM usage_union WHERE 0;
CREATE TRIGGER union_in_merge INSTEAD OF INSERT ON union_in BEGIN
  INSERT INTO usage_union SELECT * FROM usage_union_rows WHERE usage_key = NEW.usage_key
  ON CONFLICT(usage_key) DO UPDATE SET
    device_id = excluded.device_id, event_id = excluded.event_id, provider = excluded.provider, project = excluded.project,
    session_id = excluded.session_id, ts = excluded.ts, ts_ms = excluded.ts_ms, model = excluded.model,
    input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cache_creation_tokens = excluded.cache_creation_tokens,
    cache_1h_tokens = excluded.cache_1h_tokens, cache_read_tokens = excluded.cache_read_tokens, reasoning_tokens = excluded.reasoning_tokens,
    total_tokens = excluded.total_tokens
  WHERE (usage_union.device_id, usage_union.event_id, usage_union.provider, usage_union.project, usage_union.session_id, usage_union.ts,
      usage_union.ts_ms, usage_union.model, usage_union.input_tokens, usage_union.output_tokens, usage_union.cache_creation_tokens,
      usage_union.cache_1h_tokens, usage_union.cache_read_tokens, usage_union.reasoning_tokens, usage_union.total_tokens)
    IS NOT (excluded.device_id, excluded.event_id, excluded.provider, excluded.project, excluded.session_id, excluded.ts,
      excluded.ts_ms, excluded.model, excluded.input_tokens, excluded.output_tokens, excluded.cache_creation_tokens,
      excluded.cache_1h_tokens, excluded.cache_read_tokens, excluded.reasoning_tokens, excluded.total_tokens);
END;

-- A changed event (same identity, new content: a peer's newer version, a rewritten line) is
-- what the device now holds; a bill is a function of the rows, so a peer that receives only the
-- latest version bills the same. A change that leaves what billing reads as it was (text, tools,
-- a re-tag to a new device id, which re-tags `usage` itself first) changes nothing; one that does recomputes its response's bill on that device from the rows
-- (a scan of the usage events: such changes are rare, real logs never rewrite a line's usage).
CREATE TRIGGER events_usage_au AFTER UPDATE ON events
  WHEN NEW.has_usage = 1 AND NEW.usage_key IS NOT NULL
    AND (OLD.has_usage, OLD.usage_key, OLD.ts_ms, OLD.session_id, OLD.project, OLD.model, OLD.input_tokens, OLD.output_tokens,
      OLD.cache_creation_tokens, OLD.cache_read_tokens, OLD.reasoning_tokens, OLD.total_tokens)
    IS NOT (NEW.has_usage, NEW.usage_key, NEW.ts_ms, NEW.session_id, NEW.project, NEW.model, NEW.input_tokens, NEW.output_tokens,
      NEW.cache_creation_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens, NEW.total_tokens) BEGIN
  DELETE FROM usage WHERE device_id = NEW.device_id AND usage_key = (SELECT usage_key FROM billed_lines WHERE event_id = NEW.id);
  INSERT INTO bill_in SELECT * FROM billed_lines
    WHERE device_id = NEW.device_id AND usage_key = (SELECT usage_key FROM billed_lines WHERE event_id = NEW.id) ORDER BY event_id;
  INSERT INTO union_in(usage_key) SELECT usage_key FROM billed_lines
    WHERE event_id = NEW.id AND EXISTS (SELECT 1 FROM meta WHERE key = 'usage_union' AND value = '1');
END;

-- Slots: usage summed per 15-minute UTC slot, device, provider and model (migration 034).
-- usage_slots sums `usage` (per-device scopes), union_slots sums `usage_union` (`all`).
CREATE TABLE usage_slots (
  slot_ms     INTEGER NOT NULL,
  device_id   TEXT NOT NULL,
  provider    TEXT NOT NULL,
  model_key   TEXT NOT NULL,      -- '' without a model, '=' || model otherwise
  input_tokens          INTEGER NOT NULL,
  output_tokens         INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
  cache_1h_tokens       INTEGER NOT NULL,
  cache_read_tokens     INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  input_above           INTEGER NOT NULL,
  output_above          INTEGER NOT NULL,
  cache_creation_above  INTEGER NOT NULL,
  cache_read_above      INTEGER NOT NULL,
  requests    INTEGER NOT NULL,
  first_ms    INTEGER NOT NULL,
  last_ms     INTEGER NOT NULL,
  PRIMARY KEY (slot_ms, device_id, provider, model_key)
) WITHOUT ROWID;
CREATE TABLE union_slots (
  slot_ms     INTEGER NOT NULL,
  device_id   TEXT NOT NULL,
  provider    TEXT NOT NULL,
  model_key   TEXT NOT NULL,
  input_tokens          INTEGER NOT NULL,
  output_tokens         INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
  cache_1h_tokens       INTEGER NOT NULL,
  cache_read_tokens     INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  input_above           INTEGER NOT NULL,
  output_above          INTEGER NOT NULL,
  cache_creation_above  INTEGER NOT NULL,
  cache_read_above      INTEGER NOT NULL,
  requests    INTEGER NOT NULL,
  first_ms    INTEGER NOT NULL,
  last_ms     INTEGER NOT NULL,
  PRIMARY KEY (slot_ms, device_id, provider, model_key)
) WITHOUT ROWID;

-- One bill as a slot sees it (a plain view, so a range on ts_ms reaches the *_day index).
CREATE VIEW usage_slot_rows AS
  SELECT (ts_ms / 900000) * 900000 AS slot_ms, device_id, provider, CASE WHEN model IS NULL THEN '' ELSE '=' || model END AS model_key,
    model, ts_ms, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens,
    MAX(input_tokens - 200000, 0) AS input_above, MAX(output_tokens - 200000, 0) AS output_above,
    MAX(cache_creation_tokens - 200000, 0) AS cache_creation_above, MAX(cache_read_tokens - 200000, 0) AS cache_read_above
  FROM usage WHERE ts_ms > 0;
CREATE VIEW union_slot_rows AS
  SELECT (ts_ms / 900000) * 900000 AS slot_ms, device_id, provider, CASE WHEN model IS NULL THEN '' ELSE '=' || model END AS model_key,
    model, ts_ms, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens,
    MAX(input_tokens - 200000, 0) AS input_above, MAX(output_tokens - 200000, 0) AS output_above,
    MAX(cache_creation_tokens - 200000, 0) AS cache_creation_above, MAX(cache_read_tokens - 200000, 0) AS cache_read_above
  FROM usage_union WHERE ts_ms > 0;

INSERT INTO usage_slots
  SELECT slot_ms, device_id, provider, model_key,
    SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
    SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
  FROM usage_slot_rows GROUP BY 1, 2, 3, 4;
INSERT INTO union_slots
  SELECT slot_ms, device_id, provider, model_key,
    SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
    SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
  FROM union_slot_rows GROUP BY 1, 2, 3, 4;

-- Bills are inserted, raised (a later line reports more: same slot, same time, so the slot takes
-- the difference), or moved to an earlier line (the slots it left and entered are recomputed
-- from their bills: an index range of one slot each). A per-device bill is deleted only to be
-- recomputed (usage_slots_ad, at the end); union bills are only inserted and updated.
CREATE TRIGGER usage_slots_ai AFTER INSERT ON usage WHEN NEW.ts_ms > 0 BEGIN
  INSERT INTO usage_slots VALUES (
    (NEW.ts_ms / 900000) * 900000, NEW.device_id, NEW.provider, CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END,
    NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_1h_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens,
    MAX(NEW.input_tokens - 200000, 0), MAX(NEW.output_tokens - 200000, 0),
    MAX(NEW.cache_creation_tokens - 200000, 0), MAX(NEW.cache_read_tokens - 200000, 0),
    1, NEW.ts_ms, NEW.ts_ms)
  ON CONFLICT DO UPDATE SET
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cache_1h_tokens = cache_1h_tokens + excluded.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
    input_above = input_above + excluded.input_above, output_above = output_above + excluded.output_above,
    cache_creation_above = cache_creation_above + excluded.cache_creation_above, cache_read_above = cache_read_above + excluded.cache_read_above,
    requests = requests + 1, first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms);
END;

CREATE TRIGGER usage_slots_raise AFTER UPDATE ON usage
  WHEN NEW.ts_ms > 0 AND NEW.ts_ms = OLD.ts_ms AND NEW.device_id = OLD.device_id AND NEW.provider = OLD.provider AND NEW.model IS OLD.model BEGIN
  UPDATE usage_slots SET
    input_tokens = input_tokens + NEW.input_tokens - OLD.input_tokens, output_tokens = output_tokens + NEW.output_tokens - OLD.output_tokens,
    cache_creation_tokens = cache_creation_tokens + NEW.cache_creation_tokens - OLD.cache_creation_tokens,
    cache_1h_tokens = cache_1h_tokens + NEW.cache_1h_tokens - OLD.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + NEW.cache_read_tokens - OLD.cache_read_tokens,
    reasoning_tokens = reasoning_tokens + NEW.reasoning_tokens - OLD.reasoning_tokens,
    input_above = input_above + MAX(NEW.input_tokens - 200000, 0) - MAX(OLD.input_tokens - 200000, 0),
    output_above = output_above + MAX(NEW.output_tokens - 200000, 0) - MAX(OLD.output_tokens - 200000, 0),
    cache_creation_above = cache_creation_above + MAX(NEW.cache_creation_tokens - 200000, 0) - MAX(OLD.cache_creation_tokens - 200000, 0),
    cache_read_above = cache_read_above + MAX(NEW.cache_read_tokens - 200000, 0) - MAX(OLD.cache_read_tokens - 200000, 0)
  WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
END;

CREATE TRIGGER usage_slots_move AFTER UPDATE ON usage
  WHEN NOT (NEW.ts_ms > 0 AND NEW.ts_ms = OLD.ts_ms AND NEW.device_id = OLD.device_id AND NEW.provider = OLD.provider AND NEW.model IS OLD.model) BEGIN
  DELETE FROM usage_slots WHERE slot_ms = (OLD.ts_ms / 900000) * 900000 AND device_id = OLD.device_id AND provider = OLD.provider
    AND model_key = CASE WHEN OLD.model IS NULL THEN '' ELSE '=' || OLD.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM usage_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
  DELETE FROM usage_slots WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM usage_slot_rows
    WHERE ts_ms >= (NEW.ts_ms / 900000) * 900000 AND ts_ms < (NEW.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = NEW.device_id AND provider = NEW.provider AND model IS NEW.model
    GROUP BY 1, 2, 3, 4;
END;

CREATE TRIGGER union_slots_ai AFTER INSERT ON usage_union WHEN NEW.ts_ms > 0 BEGIN
  INSERT INTO union_slots VALUES (
    (NEW.ts_ms / 900000) * 900000, NEW.device_id, NEW.provider, CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END,
    NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_1h_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens,
    MAX(NEW.input_tokens - 200000, 0), MAX(NEW.output_tokens - 200000, 0),
    MAX(NEW.cache_creation_tokens - 200000, 0), MAX(NEW.cache_read_tokens - 200000, 0),
    1, NEW.ts_ms, NEW.ts_ms)
  ON CONFLICT DO UPDATE SET
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cache_1h_tokens = cache_1h_tokens + excluded.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
    input_above = input_above + excluded.input_above, output_above = output_above + excluded.output_above,
    cache_creation_above = cache_creation_above + excluded.cache_creation_above, cache_read_above = cache_read_above + excluded.cache_read_above,
    requests = requests + 1, first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms);
END;

CREATE TRIGGER union_slots_raise AFTER UPDATE ON usage_union
  WHEN NEW.ts_ms > 0 AND NEW.ts_ms = OLD.ts_ms AND NEW.device_id = OLD.device_id AND NEW.provider = OLD.provider AND NEW.model IS OLD.model BEGIN
  UPDATE union_slots SET
    input_tokens = input_tokens + NEW.input_tokens - OLD.input_tokens, output_tokens = output_tokens + NEW.output_tokens - OLD.output_tokens,
    cache_creation_tokens = cache_creation_tokens + NEW.cache_creation_tokens - OLD.cache_creation_tokens,
    cache_1h_tokens = cache_1h_tokens + NEW.cache_1h_tokens - OLD.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + NEW.cache_read_tokens - OLD.cache_read_tokens,
    reasoning_tokens = reasoning_tokens + NEW.reasoning_tokens - OLD.reasoning_tokens,
    input_above = input_above + MAX(NEW.input_tokens - 200000, 0) - MAX(OLD.input_tokens - 200000, 0),
    output_above = output_above + MAX(NEW.output_tokens - 200000, 0) - MAX(OLD.output_tokens - 200000, 0),
    cache_creation_above = cache_creation_above + MAX(NEW.cache_creation_tokens - 200000, 0) - MAX(OLD.cache_creation_tokens - 200000, 0),
    cache_read_above = cache_read_above + MAX(NEW.cache_read_tokens - 200000, 0) - MAX(OLD.cache_read_tokens - 200000, 0)
  WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
END;

CREATE TRIGGER union_slots_move AFTER UPDATE ON usage_union
  WHEN NOT (NEW.ts_ms > 0 AND NEW.ts_ms = OLD.ts_ms AND NEW.device_id = OLD.device_id AND NEW.provider = OLD.provider AND NEW.model IS OLD.model) BEGIN
  DELETE FROM union_slots WHERE slot_ms = (OLD.ts_ms / 900000) * 900000 AND device_id = OLD.device_id AND provider = OLD.provider
    AND model_key = CASE WHEN OLD.model IS NULL THEN '' ELSE '=' || OLD.model END;
  INSERT INTO union_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM union_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
  DELETE FROM union_slots WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
  INSERT INTO union_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM union_slot_rows
    WHERE ts_ms >= (NEW.ts_ms / 900000) * 900000 AND ts_ms < (NEW.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = NEW.device_id AND provider = NEW.provider AND model IS NEW.model
    GROUP BY 1, 2, 3, 4;
END;

-- A bill recomputed from its rows (events_usage_au) is deleted and inserted again: the slot it
-- left is rebuilt from its bills (an index range of one slot), as usage_slots_move does.
CREATE TRIGGER usage_slots_ad AFTER DELETE ON usage WHEN OLD.ts_ms > 0 BEGIN
  DELETE FROM usage_slots WHERE slot_ms = (OLD.ts_ms / 900000) * 900000 AND device_id = OLD.device_id AND provider = OLD.provider
    AND model_key = CASE WHEN OLD.model IS NULL THEN '' ELSE '=' || OLD.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM usage_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
END;
