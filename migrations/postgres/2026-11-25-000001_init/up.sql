-- Assent schema (PostgreSQL). Kept column-for-column identical to migrations/sqlite.
CREATE TABLE purposes (
    key TEXT PRIMARY KEY NOT NULL,
    legal_basis TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    channel TEXT NOT NULL,
    retention TEXT NOT NULL,
    renewal_window_days BIGINT NOT NULL,
    current_version_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Immutable: one row per published wording of a purpose.
CREATE TABLE policy_versions (
    id TEXT PRIMARY KEY NOT NULL,
    purpose_key TEXT NOT NULL REFERENCES purposes(key),
    version BIGINT NOT NULL,
    title_en TEXT NOT NULL,
    title_ko TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_ko TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (purpose_key, version)
);

CREATE TABLE forms (
    key TEXT PRIMARY KEY NOT NULL,
    current_version_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Immutable: one row per published definition of a form (fields, purposes, origins) as JSON.
CREATE TABLE form_versions (
    id TEXT PRIMARY KEY NOT NULL,
    form_key TEXT NOT NULL REFERENCES forms(key),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    definition_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (form_key, version)
);

CREATE TABLE subjects (
    id TEXT PRIMARY KEY NOT NULL,
    email_index BYTEA NOT NULL UNIQUE,
    wrapped_key BYTEA,
    email_ciphertext BYTEA,
    locale TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    erased_at TIMESTAMP
);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    form_version_id TEXT NOT NULL REFERENCES form_versions(id),
    locale TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX submissions_subject ON submissions(subject_id);

-- One row per stored field value, encrypted under the subject's data key.
-- `purposes` lists (space-separated) the purposes that justify keeping it.
CREATE TABLE field_values (
    id TEXT PRIMARY KEY NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    field_key TEXT NOT NULL,
    purposes TEXT NOT NULL,
    ciphertext BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX field_values_subject ON field_values(subject_id);
CREATE INDEX field_values_submission ON field_values(submission_id);

-- The append-only consent ledger, chained by SHA-256.
CREATE TABLE consent_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    subject_id TEXT NOT NULL,
    purpose_key TEXT NOT NULL,
    action TEXT NOT NULL,
    policy_version_id TEXT NOT NULL,
    policy_text_hash TEXT NOT NULL,
    method TEXT NOT NULL,
    source TEXT NOT NULL,
    evidence TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events(subject_id, purpose_key);

CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'consent_events is append-only'; END $$;
CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events
FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

-- The tip of the ledger; its row lock serialises appends across processes.
CREATE TABLE ledger_head (
    id BIGINT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Current state per (subject, purpose), derived from the ledger in the same transaction.
CREATE TABLE consent_state (
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    purpose_key TEXT NOT NULL REFERENCES purposes(key),
    status TEXT NOT NULL,
    policy_version_id TEXT NOT NULL,
    granted_at TIMESTAMP,
    expires_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    last_event_seq BIGINT NOT NULL,
    PRIMARY KEY (subject_id, purpose_key)
);
CREATE INDEX consent_state_expiry ON consent_state(expires_at);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
