DROP TRIGGER purposes_advance_catalog ON purposes;
DROP TRIGGER policy_versions_advance_catalog ON policy_versions;
DROP TRIGGER forms_advance_catalog ON forms;
DROP TRIGGER form_versions_advance_catalog ON form_versions;
DROP FUNCTION assent_catalog_changed();
DROP TABLE catalog_version;
