-- A sheet uploaded in the console while its owner says which column is what (a day at most):
-- sealed under the master key, never in the clear, with the mapping and options chosen so far.
-- Once checked it moves to import_uploads under its check's id.
CREATE TABLE import_sheets (
    id TEXT PRIMARY KEY NOT NULL,
    form_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    -- The choices so far (JSON: mapping, wording version, time zone, all or nothing); no value
    -- from the file.
    choices TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX import_sheets_created ON import_sheets (created_at);

-- When a run last showed life (each chunk): a run still "running" long after is one whose
-- process stopped, and is recorded as failed (its chunks stand: each was its own transaction).
ALTER TABLE imports ADD COLUMN heartbeat_at TIMESTAMP;
