-- Core store: one device's view of its coding-agent logs, plus room for peers' events.
-- Every event row belongs to one origin device (this device for ingested logs).

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE projects (
  provider   TEXT NOT NULL,
  slug       TEXT NOT NULL,
  path       TEXT,
  PRIMARY KEY (provider, slug)
) WITHOUT ROWID;

-- Per (device, provider, session) aggregates, kept current by triggers on events.
CREATE TABLE sessions (
  device_id   TEXT NOT NULL,
  provider    TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  project     TEXT NOT NULL,
  first_ts    TEXT NOT NULL,
  last_ts     TEXT NOT NULL,
  events      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (device_id, provider, session_id)
) WITHOUT ROWID;

CREATE TABLE events (
  id            INTEGER PRIMARY KEY,
  device_id     TEXT NOT NULL,            -- origin device
  uid           TEXT NOT NULL,            -- natural identity (sha256 hex)
  provider      TEXT NOT NULL,
  project       TEXT NOT NULL,
  project_path  TEXT,
  session_id    TEXT NOT NULL,
  record_id     TEXT NOT NULL,
  ts            TEXT NOT NULL,            -- ISO-8601 UTC
  ts_ms         INTEGER NOT NULL,         -- same instant as epoch ms (0 when unknown), for day grouping
  kind          TEXT NOT NULL,
  model         TEXT,
  sidechain     INTEGER NOT NULL DEFAULT 0,
  agent         TEXT,
  usage_key     TEXT,
  input_tokens          INTEGER NOT NULL DEFAULT 0,
  output_tokens         INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens      INTEGER NOT NULL DEFAULT 0,
  total_tokens          INTEGER NOT NULL DEFAULT 0,
  has_usage     INTEGER NOT NULL DEFAULT 0,
  text          TEXT,
  extra         TEXT,
  chash         TEXT NOT NULL,            -- hash of the canonical record: changes iff content changes
  seq           INTEGER NOT NULL,         -- origin device's change number (monotonic per device)
  written_at    TEXT NOT NULL             -- HLC stamp of the origin device's last write
);
CREATE UNIQUE INDEX events_device_uid ON events(device_id, uid);
CREATE UNIQUE INDEX events_device_seq ON events(device_id, seq);
CREATE INDEX events_uid ON events(uid);
CREATE INDEX events_session ON events(provider, session_id, ts);

-- Billing facts: one row per (usage key, device), the earliest record carrying that usage
-- on that device (ccusage counts the first occurrence of message.id:requestId).
CREATE TABLE usage (
  usage_key   TEXT NOT NULL,
  device_id   TEXT NOT NULL,
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
  cache_read_tokens     INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  total_tokens          INTEGER NOT NULL,
  written_at  TEXT NOT NULL,
  PRIMARY KEY (usage_key, device_id)
) WITHOUT ROWID;
CREATE INDEX usage_ts ON usage(ts_ms);
CREATE INDEX usage_device_ts ON usage(device_id, ts_ms);

-- Incremental ingest bookkeeping, per source file.
CREATE TABLE source_files (
  path        TEXT PRIMARY KEY,
  provider    TEXT NOT NULL,
  size        INTEGER NOT NULL,
  mtime_ms    INTEGER NOT NULL,
  offset      INTEGER NOT NULL,          -- bytes consumed (always at a line boundary)
  head_hash   TEXT NOT NULL,             -- sha256 of the first min(offset, 4096) bytes: detects rewrites
  state       TEXT,                      -- parser state JSON to resume from offset
  lines       INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,-- malformed lines seen so far
  missing     INTEGER NOT NULL DEFAULT 0 -- 1 once the file disappeared (events are kept)
) WITHOUT ROWID;

-- Sessions, projects and billing facts of NEW events are maintained per batch, set-based,
-- by indexNewEvents() in src/store/events.ts (one statement per batch instead of three
-- per row: the per-row triggers were the largest cost of a cold ingest). Changes to
-- existing events keep a trigger: they are rare.

-- A changed event (same identity, new content) is billed like a new one: it may have gained
-- a usage key, or become the earliest record of its key; the row it already bills follows it.
CREATE TRIGGER events_usage_au AFTER UPDATE ON events WHEN NEW.has_usage = 1 AND NEW.usage_key IS NOT NULL BEGIN
  INSERT INTO usage(usage_key, device_id, event_id, provider, project, session_id, ts, ts_ms, model,
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens, total_tokens, written_at)
  VALUES (NEW.usage_key, NEW.device_id, NEW.id, NEW.provider, NEW.project, NEW.session_id, NEW.ts, NEW.ts_ms, NEW.model,
    NEW.input_tokens, NEW.output_tokens, NEW.cache_creation_tokens, NEW.cache_read_tokens, NEW.reasoning_tokens, NEW.total_tokens, NEW.written_at)
  ON CONFLICT(usage_key, device_id) DO UPDATE SET
    event_id = excluded.event_id, provider = excluded.provider, project = excluded.project, session_id = excluded.session_id,
    ts = excluded.ts, ts_ms = excluded.ts_ms, model = excluded.model,
    input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
    cache_creation_tokens = excluded.cache_creation_tokens, cache_read_tokens = excluded.cache_read_tokens,
    reasoning_tokens = excluded.reasoning_tokens, total_tokens = excluded.total_tokens, written_at = excluded.written_at
  WHERE usage.event_id = excluded.event_id OR excluded.ts < usage.ts;
END;
