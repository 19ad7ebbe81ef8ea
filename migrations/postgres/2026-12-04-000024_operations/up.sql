-- When each routine operation last succeeded and last failed (backups, retention runs, ledger
-- verification, the security check), for `assent doctor`; detail is what the latest run said
-- (no personal data: for the doctor, its findings as JSON).
CREATE TABLE operations (
    name TEXT PRIMARY KEY NOT NULL,
    last_ok_at TIMESTAMP,
    last_failed_at TIMESTAMP,
    detail TEXT NOT NULL
);
INSERT INTO operations (name, detail) VALUES ('backup', ''), ('retention', ''), ('ledger_verify', ''), ('doctor', '');
