-- A team in the console: accounts invited by e-mail set their own password from a single-use
-- link. Only the SHA-256 of each link's token is stored.
ALTER TABLE owners ADD COLUMN invited BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE owner_tokens (
    id_hash TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES owners(id),
    purpose TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX owner_tokens_owner ON owner_tokens(owner_id);
-- Each console session says where it was opened (a device summary and the IP's pseudonym, never
-- the address), for the account's own list of its sessions.
ALTER TABLE owner_sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE owner_sessions ADD COLUMN ip_pseudonym TEXT NOT NULL DEFAULT '';
