-- Signed tree heads: the size and RFC 6962 root of the consent ledger's Merkle tree at a moment,
-- signed with the server's Ed25519 tree-head key. Each is also appended to a witness outside the
-- database (data/witness.jsonl), so that a rewritten database cannot make a shortened or edited
-- history verify.
CREATE TABLE tree_heads (
    size BIGINT PRIMARY KEY NOT NULL,
    root TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- Receipts name their events by the submission (the events' source): found without a scan.
CREATE INDEX consent_events_by_source ON consent_events (source);
