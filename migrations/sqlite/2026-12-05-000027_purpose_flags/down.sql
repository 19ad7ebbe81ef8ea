ALTER TABLE purposes DROP COLUMN sale_or_share;
ALTER TABLE purposes DROP COLUMN night_time;
