-- The catalogue's version: advanced by every change to purposes, their wording, forms and their
-- versions, whoever commits it (a server's console, `assent apply` in another process), so that
-- each running server can tell with one tiny read when its catalogue must be reloaded.
CREATE TABLE catalog_version (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

-- Statement-level; the notification wakes each server's change listener (see db::changes), so a
-- server on PostgreSQL looks at the version as soon as the change is committed.
CREATE FUNCTION assent_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('assent_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER purposes_advance_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON purposes
    FOR EACH STATEMENT EXECUTE FUNCTION assent_catalog_changed();
CREATE TRIGGER policy_versions_advance_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION assent_catalog_changed();
CREATE TRIGGER forms_advance_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON forms
    FOR EACH STATEMENT EXECUTE FUNCTION assent_catalog_changed();
CREATE TRIGGER form_versions_advance_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON form_versions
    FOR EACH STATEMENT EXECUTE FUNCTION assent_catalog_changed();
