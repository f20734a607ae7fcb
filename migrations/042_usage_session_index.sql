-- One session's bills, for the status line (Claude Code runs it on every prompt, and it sums the
-- session's cost each time). The bill tables are keyed by usage key, so a session's rows lie all
-- over the table, and without an index by session they were found through the time index over
-- the session's span, one table lookup per bill of every session in that span (on the 1 GB bench
-- store, 1,909 lookups for a session of 746 responses; a session resumed over days spans days).
-- These indexes hold what the sum reads (ts_ms too: the query states it), session first: one range
-- of one index.
--
-- Made so that no other query picks them up: keyed on `session_id || ''` (the same text), since an
-- index on session_id itself is chosen by reports that group by session, which then look up every
-- row for the columns it lacks (`report session` on the 200 MB bench store: 55 -> 90 ms); and
-- partial, `WHERE ts_ms > 0`, since SQLite scans the smallest index that covers a query and would
-- take these for the sums of the daily report. Only a query naming both (src/reports/entries.ts)
-- can use them.
CREATE INDEX usage_session ON usage((session_id || ''), provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, ts_ms)
  WHERE ts_ms > 0;
CREATE INDEX union_session ON usage_union((session_id || ''), provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, ts_ms)
  WHERE ts_ms > 0;
