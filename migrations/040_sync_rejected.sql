-- Peers whose manifest this device refused (docs/specs/sync-protocol-v1.md §8.1): not
-- authenticated by the bucket's key (forged by someone who knows only the recipient, or
-- edited), unauthenticated (written before manifests were authenticated), or sealed to
-- another key. Nothing from them landed. `sync status` shows them; a pull does not download
-- the same manifest again (same ETag) and drops the row once the device writes one that passes.
CREATE TABLE sync_rejected (
  device_id     TEXT PRIMARY KEY,
  manifest_etag TEXT,
  reason        TEXT NOT NULL,
  message       TEXT NOT NULL,
  since         TEXT NOT NULL
) WITHOUT ROWID;
