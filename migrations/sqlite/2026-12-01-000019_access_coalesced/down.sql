ALTER TABLE access_records DROP COLUMN last_at;
ALTER TABLE access_records DROP COLUMN times;
