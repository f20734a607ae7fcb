-- Multi-device sync (docs/specs/sync-protocol-v1.md). Secrets and credentials are never stored here.

-- Single row, exactly as specified by the sync issue.
CREATE TABLE sync_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  device_id TEXT NOT NULL,
  bucket_url TEXT NOT NULL,
  last_sync_ts TEXT,
  last_sync_event_id INTEGER,
  encryption_key_fingerprint TEXT NOT NULL,
  remote_event_id INTEGER DEFAULT 0,
  conflict_count INTEGER DEFAULT 0
);

-- Non-secret settings: endpoint, region, profile, key env var name, device name,
-- conditional write support, our manifest's etag and generation.
CREATE TABLE sync_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- What we know of each peer device: replay guard (generation) and merge cursor.
CREATE TABLE sync_peers (
  device_id            TEXT PRIMARY KEY,
  name                 TEXT,
  generation           INTEGER NOT NULL DEFAULT 0,
  cursor_seq           INTEGER NOT NULL DEFAULT 0,
  manifest_written_at  TEXT,
  manifest_etag        TEXT,                -- ETag of the manifest last read: an unchanged one is not fetched again
  last_pulled_at       TEXT,
  events               INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- The spool: sealed segments written to sync/outbox/ before upload. A row exists iff
-- the segment is not yet listed by a manifest we committed.
CREATE TABLE sync_outbox (
  name        TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  seq_from    INTEGER NOT NULL,
  seq_to      INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  uploaded_at TEXT
) WITHOUT ROWID;

-- Our committed segments: exactly what our current manifest lists.
CREATE TABLE sync_segments (
  name         TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  seq_from     INTEGER NOT NULL,
  seq_to       INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  bytes        INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  committed_at TEXT NOT NULL
) WITHOUT ROWID;

-- Recent sync operations, for `sync status` (last error) and the daemon.
CREATE TABLE sync_log (
  id      INTEGER PRIMARY KEY,
  ts      TEXT NOT NULL,
  op      TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail  TEXT
);
