DROP TRIGGER workspace_profile_update_advances_catalog;
DROP TRIGGER workspace_profile_insert_advances_catalog;
DROP TABLE workspace_profile;
ALTER TABLE purposes DROP COLUMN sensitive;
ALTER TABLE purposes DROP COLUMN third_parties;
ALTER TABLE purposes DROP COLUMN category;
