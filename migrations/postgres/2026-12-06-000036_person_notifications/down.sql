DROP TRIGGER held_values_inserted ON held_values;
DROP TRIGGER held_values_updated ON held_values;
DROP TRIGGER held_values_deleted ON held_values;
DROP TRIGGER held_values_truncated ON held_values;
DROP TRIGGER hold_keys_inserted ON hold_keys;
DROP TRIGGER hold_keys_updated ON hold_keys;
DROP TRIGGER hold_keys_deleted ON hold_keys;
DROP TRIGGER hold_keys_truncated ON hold_keys;
DROP TRIGGER external_ids_inserted ON external_ids;
DROP TRIGGER external_ids_updated ON external_ids;
DROP TRIGGER external_ids_deleted ON external_ids;
DROP TRIGGER external_ids_truncated ON external_ids;
DROP TRIGGER consent_state_inserted ON consent_state;
DROP TRIGGER consent_state_updated ON consent_state;
DROP TRIGGER consent_state_deleted ON consent_state;
DROP TRIGGER consent_state_truncated ON consent_state;
DROP TRIGGER subjects_inserted ON subjects;
DROP TRIGGER subjects_updated ON subjects;
DROP TRIGGER subjects_deleted ON subjects;
DROP TRIGGER subjects_truncated ON subjects;
DROP FUNCTION assent_person_changed();
DROP FUNCTION assent_holders_changed();
DROP FUNCTION assent_subjects_changed();

CREATE OR REPLACE FUNCTION assent_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('assent_changed', '');
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION assent_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('assent_changed', '');
    RETURN NULL;
END
$$;
DROP FUNCTION assent_touched_anything();

CREATE TRIGGER subjects_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
CREATE TRIGGER consent_state_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consent_state
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
CREATE TRIGGER external_ids_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON external_ids
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
