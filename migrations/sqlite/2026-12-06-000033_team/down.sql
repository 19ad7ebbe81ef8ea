DROP TABLE owner_tokens;
ALTER TABLE owners DROP COLUMN invited;
