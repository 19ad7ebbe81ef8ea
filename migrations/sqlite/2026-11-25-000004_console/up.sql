-- The site owner's console (SQLite; identical in migrations/postgres).

-- Staff accounts. The e-mail is kept in clear (owners are staff, not data subjects) but is never
-- logged. `password_hash` is an argon2id PHC string.
CREATE TABLE owners (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);

-- Console sessions; only a SHA-256 of the cookie is stored.
CREATE TABLE owner_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES owners(id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX owner_sessions_owner ON owner_sessions(owner_id);

-- The form builder's working copy of a form (a FormDefinition as JSON), until it is published.
CREATE TABLE form_drafts (
    form_key TEXT PRIMARY KEY NOT NULL,
    definition TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);

-- The workspace file last applied at start: a restart re-applies it only if it changed, so
-- edits made in the console survive restarts.
CREATE TABLE workspace_applied (
    id BIGINT PRIMARY KEY NOT NULL,
    file_hash TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
