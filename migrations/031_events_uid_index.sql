-- One index on events' identity instead of two. 001 had (device_id, uid) UNIQUE for upserts and
-- (uid) for cross-device lookups; both are keyed by random hashes, so every inserted event paid
-- for two random B-tree inserts (the largest part of an insert's cost in ingest and sync pull).
-- (uid, device_id) serves both: lookups by uid alone use its prefix, and ON CONFLICT(device_id, uid)
-- matches a unique index on the same set of columns in any order.
DROP INDEX events_uid;
DROP INDEX events_device_uid;
CREATE UNIQUE INDEX events_uid_device ON events(uid, device_id);
