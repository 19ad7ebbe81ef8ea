DROP INDEX consent_state_notice;
DROP INDEX consent_state_expiry;
CREATE INDEX consent_state_expiry ON consent_state(expires_at);
ALTER TABLE consent_state DROP COLUMN notice_anchor_at;
