DROP TRIGGER workspace_profile_advances_catalog ON workspace_profile;
DROP TABLE workspace_profile;
ALTER TABLE purposes DROP COLUMN sensitive;
ALTER TABLE purposes DROP COLUMN third_parties;
ALTER TABLE purposes DROP COLUMN category;
