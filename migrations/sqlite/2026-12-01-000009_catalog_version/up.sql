-- The catalogue's version: advanced by every change to purposes, their wording, forms and their
-- versions, whoever commits it (a server's console, `assent apply` in another process), so that
-- each running server can tell with one tiny read when its catalogue must be reloaded.
CREATE TABLE catalog_version (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TRIGGER purposes_insert_advances_catalog AFTER INSERT ON purposes
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER purposes_update_advances_catalog AFTER UPDATE ON purposes
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER purposes_delete_advances_catalog AFTER DELETE ON purposes
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER policy_versions_insert_advances_catalog AFTER INSERT ON policy_versions
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER policy_versions_update_advances_catalog AFTER UPDATE ON policy_versions
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER policy_versions_delete_advances_catalog AFTER DELETE ON policy_versions
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER forms_insert_advances_catalog AFTER INSERT ON forms
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER forms_update_advances_catalog AFTER UPDATE ON forms
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER forms_delete_advances_catalog AFTER DELETE ON forms
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER form_versions_insert_advances_catalog AFTER INSERT ON form_versions
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER form_versions_update_advances_catalog AFTER UPDATE ON form_versions
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER form_versions_delete_advances_catalog AFTER DELETE ON form_versions
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
