-- Per person (issue 21): a commit that changes people tells which people, so that every other
-- cached consent answer stays trusted. Each statement that writes a person's row tells, on
-- channel `assent_changed`, a list of `s<subject id>` and `e<blind index, hex>` (or '' for
-- "anything": past 64 people, or a TRUNCATE); and, on a connection that collects them (the
-- writer: `SET assent.collect = 'on'` and its temporary table `assent_touched`, see
-- db::touched_pg), records them there, for the writer to read before it commits and tell its own
-- process at once. Any other table a cache reads (API keys, the catalogue) still tells
-- "anything", and records it.

-- The writer's temporary table: kind 0 a subject id, 1 a blind index, 2 anything.
CREATE FUNCTION assent_touched_record(subjects TEXT[], emails BYTEA[], anything BOOLEAN) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('assent.collect', true) IS DISTINCT FROM 'on' THEN
        RETURN;
    END IF;
    IF anything OR cardinality(subjects) + cardinality(emails) > 4096 THEN
        INSERT INTO pg_temp.assent_touched (kind) VALUES (2);
        RETURN;
    END IF;
    INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(s, 'UTF8') FROM unnest(subjects) s;
    INSERT INTO pg_temp.assent_touched (kind, k) SELECT 1, e FROM unnest(emails) e;
END
$$;

CREATE OR REPLACE FUNCTION assent_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('assent_changed', '');
    PERFORM assent_touched_record('{}', '{}', true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION assent_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('assent_changed', '');
    PERFORM assent_touched_record('{}', '{}', true);
    RETURN NULL;
END
$$;

-- What one statement wrote about people: told to every listener, and recorded for the writer.
CREATE FUNCTION assent_people_touched(subjects TEXT[], emails BYTEA[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT := '';
BEGIN
    IF cardinality(subjects) + cardinality(emails) = 0 THEN
        RETURN;
    END IF;
    IF cardinality(subjects) + cardinality(emails) <= 64 THEN
        payload := array_to_string(
            ARRAY(SELECT 's' || x FROM unnest(subjects) x) || ARRAY(SELECT 'e' || encode(x, 'hex') FROM unnest(emails) x),
            ',');
    END IF;
    -- Over 7 000 bytes (ids longer than Assent's) it tells "anything" (the limit is 8 000).
    IF octet_length(payload) > 7000 THEN
        payload := '';
    END IF;
    PERFORM pg_notify('assent_changed', payload);
    PERFORM assent_touched_record(subjects, emails, false);
END
$$;

-- Statement-level triggers with transition tables (`new_rows`, `old_rows`), static SQL (plans
-- kept): one function per shape of people table.
CREATE FUNCTION assent_subjects_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM assent_people_touched(ARRAY(SELECT id FROM new_rows), ARRAY(SELECT email_index FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM assent_people_touched(
            ARRAY(SELECT id FROM new_rows UNION SELECT id FROM old_rows),
            ARRAY(SELECT email_index FROM new_rows UNION SELECT email_index FROM old_rows));
    ELSE
        PERFORM assent_people_touched(ARRAY(SELECT id FROM old_rows), ARRAY(SELECT email_index FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION assent_holders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM assent_people_touched(ARRAY(SELECT subject_id FROM new_rows), ARRAY(SELECT email_index FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM assent_people_touched(
            ARRAY(SELECT subject_id FROM new_rows UNION SELECT subject_id FROM old_rows),
            ARRAY(SELECT email_index FROM new_rows UNION SELECT email_index FROM old_rows));
    ELSE
        PERFORM assent_people_touched(ARRAY(SELECT subject_id FROM old_rows), ARRAY(SELECT email_index FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION assent_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM assent_people_touched(ARRAY(SELECT DISTINCT subject_id FROM new_rows), '{}');
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM assent_people_touched(ARRAY(SELECT subject_id FROM new_rows UNION SELECT subject_id FROM old_rows), '{}');
    ELSE
        PERFORM assent_people_touched(ARRAY(SELECT DISTINCT subject_id FROM old_rows), '{}');
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER subjects_changed ON subjects;
DROP TRIGGER consent_state_changed ON consent_state;
DROP TRIGGER external_ids_changed ON external_ids;

CREATE TRIGGER subjects_inserted AFTER INSERT ON subjects REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_subjects_changed();
CREATE TRIGGER subjects_updated AFTER UPDATE ON subjects REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_subjects_changed();
CREATE TRIGGER subjects_deleted AFTER DELETE ON subjects REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_subjects_changed();
CREATE TRIGGER subjects_truncated AFTER TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

CREATE TRIGGER consent_state_inserted AFTER INSERT ON consent_state REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER consent_state_updated AFTER UPDATE ON consent_state REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER consent_state_deleted AFTER DELETE ON consent_state REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER consent_state_truncated AFTER TRUNCATE ON consent_state
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

CREATE TRIGGER external_ids_inserted AFTER INSERT ON external_ids REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER external_ids_updated AFTER UPDATE ON external_ids REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER external_ids_deleted AFTER DELETE ON external_ids REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER external_ids_truncated AFTER TRUNCATE ON external_ids
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

-- Statutory holds: the consent check answers "restricted" from them (they told nothing before).
CREATE TRIGGER hold_keys_inserted AFTER INSERT ON hold_keys REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_holders_changed();
CREATE TRIGGER hold_keys_updated AFTER UPDATE ON hold_keys REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_holders_changed();
CREATE TRIGGER hold_keys_deleted AFTER DELETE ON hold_keys REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_holders_changed();
CREATE TRIGGER hold_keys_truncated AFTER TRUNCATE ON hold_keys
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

CREATE TRIGGER held_values_inserted AFTER INSERT ON held_values REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER held_values_updated AFTER UPDATE ON held_values REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER held_values_deleted AFTER DELETE ON held_values REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER held_values_truncated AFTER TRUNCATE ON held_values
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
