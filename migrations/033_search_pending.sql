-- Events whose text is not in the search index yet. A large sync landing (a first pull of a
-- peer's history: ~1 M events) records its rows here instead of indexing them inside the
-- landing transaction (FTS5 tokenizing was ~15 % of such a pull); the next search indexes
-- them first (src/search/index.ts catchUpSearchIndex), and the sync daemon does it after
-- its pulls. Everything else is still indexed as it is written.
CREATE TABLE fts_pending (
  id INTEGER PRIMARY KEY  -- events.id
);

-- The triggers must not touch the index for a pending row (it is not in the index: an FTS5
-- 'delete' of a row it never saw damages it). A pending row that changes just stays pending:
-- catching up indexes its current text.
DROP TRIGGER events_fts_ad;
DROP TRIGGER events_fts_au;

CREATE TRIGGER events_fts_ad AFTER DELETE ON events BEGIN
  INSERT INTO events_fts(events_fts, rowid, text) SELECT 'delete', OLD.id, OLD.text
    WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = OLD.id);
  DELETE FROM fts_pending WHERE id = OLD.id;
END;

CREATE TRIGGER events_fts_au AFTER UPDATE OF text ON events
  WHEN OLD.text IS NOT NEW.text AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = OLD.id) BEGIN
  INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
  INSERT INTO events_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;
