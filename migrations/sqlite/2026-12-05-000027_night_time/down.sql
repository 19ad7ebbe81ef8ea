ALTER TABLE purposes DROP COLUMN night_time;
