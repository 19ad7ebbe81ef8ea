-- A policy version is the whole notice a person was shown about a purpose: its wording and its
-- terms (required, legal basis, channel, retention, renewal window), with a hash of all of it.
-- Versions published before this change recorded no terms ('': their terms are the purpose's).
ALTER TABLE policy_versions ADD COLUMN terms TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_versions ADD COLUMN notice_hash TEXT NOT NULL DEFAULT '';
