ALTER TABLE owner_sessions DROP COLUMN ip_pseudonym;
ALTER TABLE owner_sessions DROP COLUMN device;
DROP TABLE owner_tokens;
ALTER TABLE owners DROP COLUMN invited;
