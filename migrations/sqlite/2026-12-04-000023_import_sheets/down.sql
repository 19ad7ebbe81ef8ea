ALTER TABLE imports DROP COLUMN heartbeat_at;
DROP TABLE import_sheets;
