-- Languages as data: a policy version's wording in every language it was published in, one row
-- per language, instead of a pair of columns per language; and the languages a workspace offers.

CREATE TABLE policy_texts (
    policy_version_id TEXT NOT NULL REFERENCES policy_versions(id),
    locale TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (policy_version_id, locale)
);

INSERT INTO policy_texts (policy_version_id, locale, title, text)
    SELECT id, 'en', title_en, text_en FROM policy_versions;
INSERT INTO policy_texts (policy_version_id, locale, title, text)
    SELECT id, 'ko', title_ko, text_ko FROM policy_versions;

ALTER TABLE policy_versions DROP COLUMN title_en, DROP COLUMN title_ko, DROP COLUMN text_en, DROP COLUMN text_ko;

CREATE TABLE workspace_locales (
    locale TEXT PRIMARY KEY NOT NULL,
    position BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL
);
-- Before this change every workspace spoke English (its default) and Korean.
INSERT INTO workspace_locales (locale, position, is_default) VALUES ('en', 0, TRUE), ('ko', 1, FALSE);

-- A change to the wording or to the offered languages is a change to the catalogue.
CREATE TRIGGER policy_texts_advance_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_texts
    FOR EACH STATEMENT EXECUTE FUNCTION assent_catalog_changed();
CREATE TRIGGER workspace_locales_advance_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON workspace_locales
    FOR EACH STATEMENT EXECUTE FUNCTION assent_catalog_changed();
