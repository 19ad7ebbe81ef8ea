-- Imports (issue 16). An event recorded after it happened (an imported consent, with its
-- original time as occurred_at) also carries when the ledger learnt of it; NULL for every other
-- event, which then hashes exactly as before.
ALTER TABLE consent_events ADD COLUMN recorded_at TIMESTAMP;

-- Each import or dry run, with its parameters and its report: line numbers, outcomes and
-- problem codes only, never a value from the file.
CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    form_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    -- Whether anything was written (a dry run, or all-or-nothing with a refused row: never).
    written BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    actor TEXT NOT NULL,
    parameters TEXT NOT NULL,
    totals TEXT NOT NULL,
    report TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    -- The ledger's last sequence number when it finished: its completion is announced to a
    -- webhook endpoint once everything it recorded has been.
    ledger_seq BIGINT
);
CREATE INDEX imports_by_file ON imports (file_sha256);
CREATE INDEX imports_finished ON imports (finished_at);

-- A sheet checked (dry-run) in the console and waiting for its owner's go-ahead: sealed under the
-- master key, never in the clear; deleted once imported, or after a day.
CREATE TABLE import_uploads (
    import_id TEXT PRIMARY KEY NOT NULL REFERENCES imports (id),
    sealed BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Each de-identified export (PIPA art. 28-2): who made it and with what parameters; never its rows.
CREATE TABLE deidentified_exports (
    id TEXT PRIMARY KEY NOT NULL,
    actor TEXT NOT NULL,
    k BIGINT NOT NULL,
    rows_exported BIGINT NOT NULL,
    suppressed BIGINT NOT NULL,
    parameters TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Webhooks (issue 16): each declared endpoint's place in the ledger (the last sequence number
-- handed to it) and its state; its deliveries, one per event it wanted. The ledger is the queue.
CREATE TABLE webhook_endpoints (
    name TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    -- The event patterns declared, comma-separated (shown in the console and the API).
    events TEXT NOT NULL,
    include_email BOOLEAN NOT NULL,
    cursor BIGINT NOT NULL,
    -- The finishing time of the last import announced (import.completed) or passed over.
    imports_cursor TIMESTAMP NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    secret_fingerprint TEXT NOT NULL,
    previous_fingerprint TEXT,
    rotated_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- The same event goes to every endpoint that wants it under the same webhook-id: a delivery is
-- one event to one endpoint.
CREATE TABLE webhook_deliveries (
    id TEXT NOT NULL,
    endpoint TEXT NOT NULL REFERENCES webhook_endpoints (name),
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    response_status BIGINT,
    latency_ms BIGINT,
    next_attempt_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    PRIMARY KEY (endpoint, id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint, status, seq);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at);
