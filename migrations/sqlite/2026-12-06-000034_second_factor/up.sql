-- A second factor for console accounts (RFC 6238 TOTP). The shared secret is sealed under the
-- master key (re-wrapped by `assent keys rotate`); it is confirmed once a code from it is typed.
-- totp_last_step is the last time step a code was accepted for: a code is good once.
ALTER TABLE owners ADD COLUMN totp_sealed BLOB;
ALTER TABLE owners ADD COLUMN totp_confirmed_at TIMESTAMP;
ALTER TABLE owners ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- Ten single-use recovery codes per account, only their SHA-256 stored.
CREATE TABLE owner_recovery_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES owners(id),
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX owner_recovery_codes_owner ON owner_recovery_codes(owner_id);
-- What a session may do yet: 'signed_in', 'second_factor' (the password was right; a code is
-- next) or 'enrol' (ASSENT_REQUIRE_2FA: a second factor must be set up first).
ALTER TABLE owner_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'signed_in';
-- Who made a key in the console: disabling that account revokes its keys.
ALTER TABLE api_keys ADD COLUMN created_by TEXT;
-- Growing delays after failed sign-ins, per address (known or not, the same rows) and per
-- client network, shared by every server on one database. The key is a keyed hash.
CREATE TABLE sign_in_delays (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    not_before TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
