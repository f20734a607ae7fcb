-- Own events that cannot be shipped (docs/specs/sync-protocol-v1.md §7.1): rows an older
-- version stored malformed (a negative, fractional or infinite token count, …). A push skips
-- them instead of failing on every run; `sync status` shows them. A row that changes gets a
-- new seq and is tried again; entries whose seq no longer exists are dropped by the next push.
CREATE TABLE sync_quarantine (
  seq     INTEGER PRIMARY KEY,
  uid     TEXT NOT NULL,
  problem TEXT NOT NULL,
  since   TEXT NOT NULL
);
