DROP TABLE hold_keys;
DROP TABLE held_values;
ALTER TABLE purposes DROP COLUMN obligation;
