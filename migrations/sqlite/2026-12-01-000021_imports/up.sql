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
    finished_at TIMESTAMP
);
CREATE INDEX imports_by_file ON imports (file_sha256);

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
