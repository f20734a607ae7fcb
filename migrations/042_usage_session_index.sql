-- One session's bills, for the status line (Claude Code runs it on every prompt, and it sums the
-- session's cost each time). The bill tables are keyed by usage key, so a session's rows lie all
-- over the table, and without an index by session they were found through the time index over
-- the session's span, one table lookup per bill of every session in that span (on the 1 GB bench
-- store, 1,909 lookups for a session of 746 responses; a session resumed over days spans days).
-- These indexes hold what the sum reads (ts_ms too: the query states it), session first: one
-- range of one index, no row of the table.
--
-- Partial, `WHERE ts_ms > 0`, so that only a query stating that condition can use them: the
-- reports' sums state it as `+u.ts_ms > 0` (src/reports/aggregate.ts, baseWhere), and SQLite
-- would otherwise take this narrower index for their full scans, or, when they group by session,
-- walk it and look up every row for the columns it lacks (`report session` on the 200 MB bench
-- store: 55 -> 90 ms). The status line's sum (src/reports/entries.ts) states `u.ts_ms > 0`.
-- (An index on `session_id || ''` would hide it as well, but SQLite then looks up every row.)
CREATE INDEX usage_session ON usage(session_id, provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, ts_ms)
  WHERE ts_ms > 0;
CREATE INDEX union_session ON usage_union(session_id, provider, model, input_tokens, output_tokens, cache_creation_tokens, cache_1h_tokens, cache_read_tokens, ts_ms)
  WHERE ts_ms > 0;
