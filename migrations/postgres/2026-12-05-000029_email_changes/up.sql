-- A new address typed at /me takes effect only once a link sent to it is followed. Until then it
-- waits here, sealed under the person's data key (bound to its blind index), keyed by the id of
-- the single-use link that confirms it; erasure deletes it with everything else.
CREATE TABLE email_changes (
    token_id TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL,
    field_key TEXT NOT NULL,
    email_index BYTEA NOT NULL,
    email_ciphertext BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX email_changes_subject ON email_changes(subject_id);
