-- Access records (개인정보의 안전성 확보조치 기준 art. 8): every read of, or act on, a named
-- person's data by a console account or an API key. No address and no value is ever stored:
-- the person is their subject id, the client an IP pseudonym, the request its route template.
-- Hash chained like consent_events (prev_hash, hash); the signed tree heads (v2) commit to
-- the chain's size and head hash.
CREATE TABLE access_records (
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
    hash TEXT NOT NULL
);

-- "Who looked at this person's data?" and "what did this account look at?", newest first.
CREATE INDEX access_records_by_subject ON access_records (subject_id, seq);
CREATE INDEX access_records_by_actor ON access_records (actor_id, seq);

-- The chain's tip (one row, like ledger_head), and the anchor left by pruning: records up to
-- pruned_seq were deleted once older than the retention (two years at least); pruned_hash is
-- the last pruned record's hash, which the first kept record's prev_hash must equal.
CREATE TABLE access_head (
    id BIGINT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    pruned_seq BIGINT NOT NULL,
    pruned_hash TEXT NOT NULL,
    pruned_at TIMESTAMP
);
INSERT INTO access_head (id, seq, hash, pruned_seq, pruned_hash, pruned_at) VALUES
    (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
     0, '0000000000000000000000000000000000000000000000000000000000000000', NULL);

-- Append-only (defence in depth; `assent ledger verify` catches what a writer who drops these
-- does): no record changes; only records at or below the pruning anchor may be deleted; the
-- head never moves back.
CREATE TRIGGER access_records_no_update BEFORE UPDATE ON access_records
BEGIN SELECT RAISE(ABORT, 'access_records is append-only'); END;
CREATE TRIGGER access_records_no_delete BEFORE DELETE ON access_records
WHEN OLD.seq > (SELECT pruned_seq FROM access_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'access_records is append-only (only records past retention are pruned)'); END;
CREATE TRIGGER access_head_forward BEFORE UPDATE ON access_head
WHEN NEW.seq < OLD.seq OR NEW.pruned_seq < OLD.pruned_seq OR NEW.pruned_seq > NEW.seq
BEGIN SELECT RAISE(ABORT, 'access_head only moves forward'); END;
CREATE TRIGGER access_head_no_delete BEFORE DELETE ON access_head
BEGIN SELECT RAISE(ABORT, 'access_head cannot be deleted'); END;

-- Tree heads v2 commit to the access records too: a head is signed when either log grew, so
-- several heads may share a ledger size. access_hash NULL: a v1 head (access_size 0).
CREATE TABLE tree_heads_v2 (
    size BIGINT NOT NULL,
    root TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    access_size BIGINT NOT NULL DEFAULT 0,
    access_hash TEXT,
    PRIMARY KEY (size, access_size)
);
INSERT INTO tree_heads_v2 (size, root, signed_at, key_id, signature)
    SELECT size, root, signed_at, key_id, signature FROM tree_heads;
DROP TABLE tree_heads;
ALTER TABLE tree_heads_v2 RENAME TO tree_heads;
