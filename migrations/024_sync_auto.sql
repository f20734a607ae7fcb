-- Compaction, pruning, daemon (docs/specs/sync-protocol-v1.md §10). The daemon's settings
-- (auto, intervals, keep_days, compact_after, compacted_through, …) are rows of sync_settings.

-- Segments our manifest listed once and no longer lists (replaced by a snapshot). Their seq
-- range decides when every active peer has acknowledged past them; prune deletes the object
-- and then the row.
CREATE TABLE sync_retired (
  name       TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  seq_from   INTEGER NOT NULL,
  seq_to     INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  retired_at TEXT NOT NULL
) WITHOUT ROWID;

-- What each peer's manifest said about us when prune last read it (for `sync status`).
CREATE TABLE sync_peer_acks (
  device_id            TEXT PRIMARY KEY,
  acked_seq            INTEGER NOT NULL,
  manifest_written_at  TEXT,
  manifest_modified_at TEXT,
  seen_at              TEXT NOT NULL
) WITHOUT ROWID;
