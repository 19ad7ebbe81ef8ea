DROP TRIGGER workspace_locales_insert_advances_catalog;
DROP TRIGGER workspace_locales_update_advances_catalog;
DROP TRIGGER workspace_locales_delete_advances_catalog;
DROP TABLE workspace_locales;
DROP TRIGGER policy_texts_insert_advances_catalog;
DROP TRIGGER policy_texts_delete_advances_catalog;
ALTER TABLE policy_versions ADD COLUMN title_en TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_versions ADD COLUMN title_ko TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_versions ADD COLUMN text_en TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_versions ADD COLUMN text_ko TEXT NOT NULL DEFAULT '';
UPDATE policy_versions SET
    title_en = COALESCE((SELECT title FROM policy_texts t WHERE t.policy_version_id = policy_versions.id AND t.locale = 'en'), ''),
    text_en = COALESCE((SELECT text FROM policy_texts t WHERE t.policy_version_id = policy_versions.id AND t.locale = 'en'), ''),
    title_ko = COALESCE((SELECT title FROM policy_texts t WHERE t.policy_version_id = policy_versions.id AND t.locale = 'ko'), ''),
    text_ko = COALESCE((SELECT text FROM policy_texts t WHERE t.policy_version_id = policy_versions.id AND t.locale = 'ko'), '');
DROP TABLE policy_texts;
