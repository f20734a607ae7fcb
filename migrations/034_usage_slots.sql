-- Billed usage summed per 15-minute UTC slot, origin device, provider and model: what the
-- daily, monthly and model reports read instead of every usage row (src/reports/aggregate.ts).
-- A report starts a fresh process, and summing ~30,000 usage rows by local day (a scan of
-- usage_day plus a sort) was a third of a 200 MB store's `report daily`; a slot row stands
-- for ~13 usage rows there.
--
-- Why 15 minutes: every UTC offset in use since 1972, and every instant at which one changes,
-- is a multiple of 15 minutes (Nepal +5:45, Chatham +12:45, Lord Howe's 30-minute DST). So
-- all of a slot falls on one local day in any such zone; for a zone where that fails the
-- reports sum the usage rows instead (they check the offsets first).
--
-- `model_key` is '' for a usage row without a model and '=' || model otherwise, so a NULL
-- model and an empty name stay apart inside a primary key. The `*_above` columns sum the
-- excess of each token count over 200,000 (pricing.ts LONG_CONTEXT_THRESHOLD, checked by
-- test/store/schema.test.ts), which long-context rates bill.
CREATE TABLE usage_slots (
  slot_ms     INTEGER NOT NULL,   -- start of the slot: ts_ms rounded down to 15 minutes
  device_id   TEXT NOT NULL,
  provider    TEXT NOT NULL,
  model_key   TEXT NOT NULL,
  input_tokens          INTEGER NOT NULL,
  output_tokens         INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
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

-- Usage keys billed on more than one device. Under the `all` scope such a key counts once
-- (last write wins, src/reports/scope.ts), which per-device sums cannot express: while this
-- table is empty the slots are exact for every scope, and once a key is shared the `all`
-- scope sums the usage rows instead. A key stays here once seen (conservative, never wrong).
CREATE TABLE usage_shared (
  usage_key TEXT PRIMARY KEY
) WITHOUT ROWID;

-- One usage row as a slot sees it; the backfill and the triggers sum it. A plain view, so a
-- range on ts_ms still reaches the usage_day index.
CREATE VIEW usage_slot_rows AS
  SELECT (ts_ms / 900000) * 900000 AS slot_ms, device_id, provider, CASE WHEN model IS NULL THEN '' ELSE '=' || model END AS model_key,
    model, ts_ms, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens,
    MAX(input_tokens - 200000, 0) AS input_above, MAX(output_tokens - 200000, 0) AS output_above,
    MAX(cache_creation_tokens - 200000, 0) AS cache_creation_above, MAX(cache_read_tokens - 200000, 0) AS cache_read_above
  FROM usage WHERE ts_ms > 0;

INSERT INTO usage_slots
  SELECT slot_ms, device_id, provider, model_key,
    SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
    SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
  FROM usage_slot_rows GROUP BY 1, 2, 3, 4;

INSERT INTO usage_shared
  SELECT DISTINCT a.usage_key FROM usage a WHERE EXISTS (SELECT 1 FROM usage b WHERE b.usage_key = a.usage_key AND b.device_id <> a.device_id);

-- Kept by triggers, so every writer of `usage` (ingest, sync pull) keeps them without knowing.
-- Usage rows are only inserted, or replaced by an earlier record of the same key (the upsert
-- in src/store/events.ts); an insert adds to its slot, any other change recomputes the slots
-- it touched from `usage` (an index range of one slot).
CREATE TRIGGER usage_slots_ai AFTER INSERT ON usage WHEN NEW.ts_ms > 0 BEGIN
  INSERT INTO usage_slots VALUES (
    (NEW.ts_ms / 900000) * 900000, NEW.device_id, NEW.provider, CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END,
    NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens,
    MAX(NEW.input_tokens - 200000, 0), MAX(NEW.output_tokens - 200000, 0),
    MAX(NEW.cache_creation_tokens - 200000, 0), MAX(NEW.cache_read_tokens - 200000, 0),
    1, NEW.ts_ms, NEW.ts_ms)
  ON CONFLICT DO UPDATE SET
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
    input_above = input_above + excluded.input_above, output_above = output_above + excluded.output_above,
    cache_creation_above = cache_creation_above + excluded.cache_creation_above, cache_read_above = cache_read_above + excluded.cache_read_above,
    requests = requests + 1, first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms);
END;

CREATE TRIGGER usage_shared_ai AFTER INSERT ON usage
  WHEN EXISTS (SELECT 1 FROM usage WHERE usage_key = NEW.usage_key AND device_id <> NEW.device_id) BEGIN
  INSERT OR IGNORE INTO usage_shared VALUES (NEW.usage_key);
END;

-- A changed row recomputes its old slot, then its new one (the same slot twice is harmless:
-- the second pass deletes and rebuilds what the first built). Each is an index range of one slot.
CREATE TRIGGER usage_slots_au AFTER UPDATE ON usage BEGIN
  DELETE FROM usage_slots WHERE slot_ms = (OLD.ts_ms / 900000) * 900000 AND device_id = OLD.device_id AND provider = OLD.provider
    AND model_key = CASE WHEN OLD.model IS NULL THEN '' ELSE '=' || OLD.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM usage_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
  DELETE FROM usage_slots WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM usage_slot_rows
    WHERE ts_ms >= (NEW.ts_ms / 900000) * 900000 AND ts_ms < (NEW.ts_ms / 900000) * 900000 + 900000
      AND device_id = NEW.device_id AND provider = NEW.provider AND model IS NEW.model
    GROUP BY 1, 2, 3, 4;
END;

CREATE TRIGGER usage_slots_ad AFTER DELETE ON usage BEGIN
  DELETE FROM usage_slots WHERE slot_ms = (OLD.ts_ms / 900000) * 900000 AND device_id = OLD.device_id AND provider = OLD.provider
    AND model_key = CASE WHEN OLD.model IS NULL THEN '' ELSE '=' || OLD.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms)
    FROM usage_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
END;
