-- Values typed on a public form for an address already on record that would change a value it
-- holds. A form cannot tell who is typing, so they wait here (read by nothing but the
-- confirmation) until the person confirms by mail, when they replace the old value, or their
-- confirmation lapses, when retention deletes them.
CREATE TABLE pending_values (
    id TEXT PRIMARY KEY NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    field_key TEXT NOT NULL,
    purposes TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_values_subject ON pending_values(subject_id);
CREATE INDEX pending_values_expires ON pending_values(expires_at);
