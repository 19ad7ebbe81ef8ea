DROP TRIGGER workspace_locales_advance_catalog ON workspace_locales;
DROP TABLE workspace_locales;
DROP TRIGGER policy_texts_advance_catalog ON policy_texts;
ALTER TABLE policy_versions
    ADD COLUMN title_en TEXT NOT NULL DEFAULT '', ADD COLUMN title_ko TEXT NOT NULL DEFAULT '',
    ADD COLUMN text_en TEXT NOT NULL DEFAULT '', ADD COLUMN text_ko TEXT NOT NULL DEFAULT '';
UPDATE policy_versions v SET
    title_en = COALESCE((SELECT title FROM policy_texts t WHERE t.policy_version_id = v.id AND t.locale = 'en'), ''),
    text_en = COALESCE((SELECT text FROM policy_texts t WHERE t.policy_version_id = v.id AND t.locale = 'en'), ''),
    title_ko = COALESCE((SELECT title FROM policy_texts t WHERE t.policy_version_id = v.id AND t.locale = 'ko'), ''),
    text_ko = COALESCE((SELECT text FROM policy_texts t WHERE t.policy_version_id = v.id AND t.locale = 'ko'), '');
DROP TABLE policy_texts;
