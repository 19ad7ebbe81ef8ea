-- Retention reads only what is due. Expiry walks (expires_at, subject, purpose); the marketing
-- reminder keeps its own anchor (the consent date, then the last reminder) so that a run reads
-- only the consents whose reminder is due, not every old consent every hour.
ALTER TABLE consent_state ADD COLUMN notice_anchor_at TIMESTAMP;
DROP INDEX consent_state_expiry;
CREATE INDEX consent_state_expiry ON consent_state(expires_at, subject_id, purpose_key);
CREATE INDEX consent_state_notice ON consent_state(notice_anchor_at);
