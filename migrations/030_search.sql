-- Full-text search over events.text (prompts, replies, tool calls and results), every device's events.
--
-- External content: the index keeps only tokens and refers back to events by id, so the text is
-- stored once. Every writer (ingest, sync pull landing peer events) indexes its new rows per batch
-- through indexNewEvents(), and triggers follow changes and deletes, with no separate step for the user; `stackunderflow search --reindex` rebuilds it.
--
-- Every event gets an index row, NULL text included (an empty document): that keeps FTS5's
-- 'integrity-check' meaningful and lets 'rebuild' and the triggers agree row for row.
-- unicode61 with remove_diacritics 2: case- and accent-insensitive words; punctuation
-- (including '_' and '.') separates tokens, so `foo_bar` is found as the phrase "foo bar".

CREATE VIRTUAL TABLE events_fts USING fts5(
  text,
  content = 'events',
  content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);

-- New events are indexed per batch by indexNewEvents() (src/store/events.ts), in one
-- INSERT … SELECT: a per-row trigger made FTS5 flush a tiny segment for every statement.

CREATE TRIGGER events_fts_ad AFTER DELETE ON events BEGIN
  INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;

-- Only a changed text touches the index: sync upserts and re-ingests that change other
-- columns (seq, written_at, usage) cost nothing here.
CREATE TRIGGER events_fts_au AFTER UPDATE OF text ON events WHEN OLD.text IS NOT NEW.text BEGIN
  INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
  INSERT INTO events_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;

-- Index the events of a store that existed before this migration.
INSERT INTO events_fts(events_fts) VALUES ('rebuild');
