-- Keys that must outlive a master key rotation, wrapped under the master key (each wrapped blob
-- starts with "AK1" and the id of the master key it is under): the HMAC keys of the e-mail blind
-- index, of IP pseudonyms and of the shown wording, and the link keys of earlier master keys.
CREATE TABLE key_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Receipt and tree-head signing keys. A key is trusted only if its wrapped seed opens under the
-- master key and gives its public key and id; retired keys keep verifying, never sign.
CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    public_key TEXT NOT NULL,
    wrapped_seed BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
