-- Long-context requests bill whole (docs/numbers.md, src/query/pricing.ts): a request whose prompt
-- (input + cache writes + cache reads) exceeds 200,000 tokens bills all its tokens at the
-- long-context rates, output and 1-hour cache writes included: Anthropic's rule for Sonnet 4/4.5's
-- 1M context and Google's for Gemini's long prompts. 035's slots summed, per token kind, only the
-- tokens beyond 200,000 (ccusage's rule). The *_above columns now hold each kind's tokens of the
-- long-context requests, cache_1h_above their 1-hour cache writes; the views and triggers that
-- keep them are 035's with that expression, and every slot is summed again from the bills.

DROP TRIGGER IF EXISTS usage_slots_ai;
DROP TRIGGER IF EXISTS usage_slots_raise;
DROP TRIGGER IF EXISTS usage_slots_move;
DROP TRIGGER IF EXISTS union_slots_ai;
DROP TRIGGER IF EXISTS union_slots_raise;
DROP TRIGGER IF EXISTS union_slots_move;
DROP TRIGGER IF EXISTS usage_slots_ad;
DROP VIEW IF EXISTS usage_slot_rows;
DROP VIEW IF EXISTS union_slot_rows;

ALTER TABLE usage_slots ADD COLUMN cache_1h_above INTEGER NOT NULL DEFAULT 0;
ALTER TABLE union_slots ADD COLUMN cache_1h_above INTEGER NOT NULL DEFAULT 0;

-- One bill as a slot sees it (a plain view, so a range on ts_ms reaches the *_day index).
CREATE VIEW usage_slot_rows AS
  SELECT (ts_ms / 900000) * 900000 AS slot_ms, device_id, provider, CASE WHEN model IS NULL THEN '' ELSE '=' || model END AS model_key,
    model, ts_ms, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens,
    CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN input_tokens ELSE 0 END AS input_above, CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN output_tokens ELSE 0 END AS output_above,
    CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN cache_creation_tokens ELSE 0 END AS cache_creation_above, CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN cache_read_tokens ELSE 0 END AS cache_read_above,
    CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN cache_1h_tokens ELSE 0 END AS cache_1h_above
  FROM usage WHERE ts_ms > 0;
CREATE VIEW union_slot_rows AS
  SELECT (ts_ms / 900000) * 900000 AS slot_ms, device_id, provider, CASE WHEN model IS NULL THEN '' ELSE '=' || model END AS model_key,
    model, ts_ms, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, reasoning_tokens,
    CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN input_tokens ELSE 0 END AS input_above, CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN output_tokens ELSE 0 END AS output_above,
    CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN cache_creation_tokens ELSE 0 END AS cache_creation_above, CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN cache_read_tokens ELSE 0 END AS cache_read_above,
    CASE WHEN input_tokens + cache_creation_tokens + cache_read_tokens > 200000 THEN cache_1h_tokens ELSE 0 END AS cache_1h_above
  FROM usage_union WHERE ts_ms > 0;

-- Bills are inserted, raised (a later line reports more: same slot, same time, so the slot takes
-- the difference), or moved to an earlier line (the slots it left and entered are recomputed
-- from their bills: an index range of one slot each). A per-device bill is deleted only to be
-- recomputed (usage_slots_ad, at the end); union bills are only inserted and updated.
CREATE TRIGGER usage_slots_ai AFTER INSERT ON usage WHEN NEW.ts_ms > 0 BEGIN
  INSERT INTO usage_slots VALUES (
    (NEW.ts_ms / 900000) * 900000, NEW.device_id, NEW.provider, CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END,
    NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_1h_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens,
    (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.input_tokens ELSE 0 END), (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.output_tokens ELSE 0 END),
    (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_creation_tokens ELSE 0 END), (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_read_tokens ELSE 0 END),
    1, NEW.ts_ms, NEW.ts_ms, (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_1h_tokens ELSE 0 END))
  ON CONFLICT DO UPDATE SET
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cache_1h_tokens = cache_1h_tokens + excluded.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
    input_above = input_above + excluded.input_above, output_above = output_above + excluded.output_above,
    cache_creation_above = cache_creation_above + excluded.cache_creation_above, cache_read_above = cache_read_above + excluded.cache_read_above,
    requests = requests + 1, first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms),
    cache_1h_above = cache_1h_above + excluded.cache_1h_above;
END;

CREATE TRIGGER usage_slots_raise AFTER UPDATE ON usage
  WHEN NEW.ts_ms > 0 AND NEW.ts_ms = OLD.ts_ms AND NEW.device_id = OLD.device_id AND NEW.provider = OLD.provider AND NEW.model IS OLD.model BEGIN
  UPDATE usage_slots SET
    input_tokens = input_tokens + NEW.input_tokens - OLD.input_tokens, output_tokens = output_tokens + NEW.output_tokens - OLD.output_tokens,
    cache_creation_tokens = cache_creation_tokens + NEW.cache_creation_tokens - OLD.cache_creation_tokens,
    cache_1h_tokens = cache_1h_tokens + NEW.cache_1h_tokens - OLD.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + NEW.cache_read_tokens - OLD.cache_read_tokens,
    reasoning_tokens = reasoning_tokens + NEW.reasoning_tokens - OLD.reasoning_tokens,
    input_above = input_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.input_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.input_tokens ELSE 0 END),
    output_above = output_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.output_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.output_tokens ELSE 0 END),
    cache_creation_above = cache_creation_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_creation_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.cache_creation_tokens ELSE 0 END),
    cache_read_above = cache_read_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_read_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.cache_read_tokens ELSE 0 END),
    cache_1h_above = cache_1h_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_1h_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.cache_1h_tokens ELSE 0 END)
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
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
    FROM usage_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
  DELETE FROM usage_slots WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
  INSERT INTO usage_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
    FROM usage_slot_rows
    WHERE ts_ms >= (NEW.ts_ms / 900000) * 900000 AND ts_ms < (NEW.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = NEW.device_id AND provider = NEW.provider AND model IS NEW.model
    GROUP BY 1, 2, 3, 4;
END;

CREATE TRIGGER union_slots_ai AFTER INSERT ON usage_union WHEN NEW.ts_ms > 0 BEGIN
  INSERT INTO union_slots VALUES (
    (NEW.ts_ms / 900000) * 900000, NEW.device_id, NEW.provider, CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END,
    NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_1h_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens,
    (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.input_tokens ELSE 0 END), (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.output_tokens ELSE 0 END),
    (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_creation_tokens ELSE 0 END), (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_read_tokens ELSE 0 END),
    1, NEW.ts_ms, NEW.ts_ms, (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_1h_tokens ELSE 0 END))
  ON CONFLICT DO UPDATE SET
    input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens, cache_1h_tokens = cache_1h_tokens + excluded.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
    input_above = input_above + excluded.input_above, output_above = output_above + excluded.output_above,
    cache_creation_above = cache_creation_above + excluded.cache_creation_above, cache_read_above = cache_read_above + excluded.cache_read_above,
    requests = requests + 1, first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms),
    cache_1h_above = cache_1h_above + excluded.cache_1h_above;
END;

CREATE TRIGGER union_slots_raise AFTER UPDATE ON usage_union
  WHEN NEW.ts_ms > 0 AND NEW.ts_ms = OLD.ts_ms AND NEW.device_id = OLD.device_id AND NEW.provider = OLD.provider AND NEW.model IS OLD.model BEGIN
  UPDATE union_slots SET
    input_tokens = input_tokens + NEW.input_tokens - OLD.input_tokens, output_tokens = output_tokens + NEW.output_tokens - OLD.output_tokens,
    cache_creation_tokens = cache_creation_tokens + NEW.cache_creation_tokens - OLD.cache_creation_tokens,
    cache_1h_tokens = cache_1h_tokens + NEW.cache_1h_tokens - OLD.cache_1h_tokens,
    cache_read_tokens = cache_read_tokens + NEW.cache_read_tokens - OLD.cache_read_tokens,
    reasoning_tokens = reasoning_tokens + NEW.reasoning_tokens - OLD.reasoning_tokens,
    input_above = input_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.input_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.input_tokens ELSE 0 END),
    output_above = output_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.output_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.output_tokens ELSE 0 END),
    cache_creation_above = cache_creation_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_creation_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.cache_creation_tokens ELSE 0 END),
    cache_read_above = cache_read_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_read_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.cache_read_tokens ELSE 0 END),
    cache_1h_above = cache_1h_above + (CASE WHEN NEW.input_tokens + NEW.cache_creation_tokens + NEW.cache_read_tokens > 200000 THEN NEW.cache_1h_tokens ELSE 0 END) - (CASE WHEN OLD.input_tokens + OLD.cache_creation_tokens + OLD.cache_read_tokens > 200000 THEN OLD.cache_1h_tokens ELSE 0 END)
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
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
    FROM union_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
  DELETE FROM union_slots WHERE slot_ms = (NEW.ts_ms / 900000) * 900000 AND device_id = NEW.device_id AND provider = NEW.provider
    AND model_key = CASE WHEN NEW.model IS NULL THEN '' ELSE '=' || NEW.model END;
  INSERT INTO union_slots
    SELECT slot_ms, device_id, provider, model_key,
      SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
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
      SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
    FROM usage_slot_rows
    WHERE ts_ms >= (OLD.ts_ms / 900000) * 900000 AND ts_ms < (OLD.ts_ms / 900000) * 900000 + 900000 AND ts_ms > 0
      AND device_id = OLD.device_id AND provider = OLD.provider AND model IS OLD.model
    GROUP BY 1, 2, 3, 4;
END;

DELETE FROM usage_slots;
INSERT INTO usage_slots
  SELECT slot_ms, device_id, provider, model_key,
    SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
    SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
  FROM usage_slot_rows GROUP BY 1, 2, 3, 4;
DELETE FROM union_slots;
INSERT INTO union_slots
  SELECT slot_ms, device_id, provider, model_key,
    SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_tokens), SUM(cache_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
    SUM(input_above), SUM(output_above), SUM(cache_creation_above), SUM(cache_read_above), COUNT(*), MIN(ts_ms), MAX(ts_ms), SUM(cache_1h_above)
  FROM union_slot_rows GROUP BY 1, 2, 3, 4;
