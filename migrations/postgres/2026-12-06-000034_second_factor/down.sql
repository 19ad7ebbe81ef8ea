DROP TABLE sign_in_delays;
ALTER TABLE api_keys DROP COLUMN created_by;
ALTER TABLE owner_sessions DROP COLUMN stage;
DROP TABLE owner_recovery_codes;
ALTER TABLE owners DROP COLUMN totp_last_step;
ALTER TABLE owners DROP COLUMN totp_confirmed_at;
ALTER TABLE owners DROP COLUMN totp_sealed;
