-- Preference center, data rights and mail (PostgreSQL; identical in migrations/sqlite).

-- Mail waiting to be sent, and the record that it was. The message is sealed under the outbox
-- key and dropped once delivered; `dedupe_key` makes enqueueing idempotent.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    subject_id TEXT,
    message BYTEA,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_owner TEXT,
    sent_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);

-- Single-use link tokens (sign-in, double opt-in confirmation). The token itself is a signed
-- JWT whose `jti` is this row's id; using it sets `used_at`.
CREATE TABLE link_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX link_tokens_subject ON link_tokens(subject_id);

-- Preference-center sessions; only a SHA-256 of the cookie is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX sessions_subject ON sessions(subject_id);

-- Every exercise of a right, with its legal deadline; kept after erasure (it names no one).
CREATE TABLE rights_requests (
    id TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    detail TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE INDEX rights_requests_received ON rights_requests(received_at);

-- Who did what to whose data (reading personal data included).
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_id TEXT,
    detail TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_time ON audit_log(occurred_at);
