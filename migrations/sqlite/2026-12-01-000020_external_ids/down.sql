-- Records of the two newer kinds cannot be kept under the older CHECK: down drops them.
CREATE TABLE access_records_new (
    seq BIGINT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('owner', 'api_key')),
    actor_id TEXT NOT NULL,
    ip_pseudonym TEXT,
    subject_id TEXT,
    action TEXT NOT NULL CHECK (action IN ('consent_check', 'view_person', 'export_person', 'change_consent',
        'erase_person', 'verified_submission', 'list_submissions', 'search', 'view_submission',
        'csv_submissions', 'csv_consents')),
    path TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    times BIGINT NOT NULL DEFAULT 1 CHECK (times >= 1),
    last_at TIMESTAMP
);
INSERT INTO access_records_new (seq, occurred_at, actor_kind, actor_id, ip_pseudonym, subject_id, action, path,
    prev_hash, hash, times, last_at)
SELECT seq, occurred_at, actor_kind, actor_id, ip_pseudonym, subject_id, action, path, prev_hash, hash, times, last_at
FROM access_records WHERE action NOT IN ('read_events', 'set_external_id');
-- Dropping a table fires none of its triggers; they and its indexes go with it.
DROP TABLE access_records;
ALTER TABLE access_records_new RENAME TO access_records;
CREATE INDEX access_records_by_subject ON access_records (subject_id, seq);
CREATE INDEX access_records_by_actor ON access_records (actor_id, seq);
CREATE TRIGGER access_records_no_update BEFORE UPDATE ON access_records
BEGIN SELECT RAISE(ABORT, 'access_records is append-only'); END;
CREATE TRIGGER access_records_no_delete BEFORE DELETE ON access_records
WHEN OLD.seq > (SELECT pruned_seq FROM access_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'access_records is append-only (only records past retention are pruned)'); END;
DROP TABLE external_ids;
