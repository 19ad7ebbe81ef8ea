-- Rate-limit counters shared by every server on one PostgreSQL database (fixed windows; the key
-- is a keyed hash of what is counted, never an address). SQLite has one server and counts in
-- memory, so the table stays empty there. Nothing in it needs to survive a crash.
CREATE UNLOGGED TABLE rate_windows (
    key_hash TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);
