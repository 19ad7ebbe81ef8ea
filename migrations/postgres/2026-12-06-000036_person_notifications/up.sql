-- Per person (issue 21): a commit that changes people tells which people, so that every other
-- cached consent answer stays trusted. Each statement that writes a person's row tells, on
-- channel `assent_changed`, a list of `s<subject id>` and `e<blind index, hex>` (or '' for
-- "anything": past 64 people, or a TRUNCATE); and, on a connection that collects them (the
-- writer: `SET assent.collect = 'on'` and its temporary table `assent_touched`, see
-- db::touched_pg), records them there, for the writer to read before it commits and tell its own
-- process at once. Any other table a cache reads (API keys, the catalogue) still tells
-- "anything", and records it.

-- The writer's temporary table holds lines of kind 0 (a subject id), 1 (a blind index) or 2
-- (anything). A change to a table a cache reads that is not about one person: anything.
CREATE FUNCTION assent_touched_anything() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('assent.collect', true) = 'on' THEN
        INSERT INTO pg_temp.assent_touched (kind) VALUES (2);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION assent_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('assent_changed', '');
    PERFORM assent_touched_anything();
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION assent_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('assent_changed', '');
    PERFORM assent_touched_anything();
    RETURN NULL;
END
$$;

-- Statement-level triggers with transition tables (`new_rows`, `old_rows`): one function per
-- shape of people table, each statement a single static query or two (plans kept; a shared
-- helper taking arrays cost twice as much per statement). A person may be named twice (an
-- update's old and new row): the writer reads the lines DISTINCT, a listener marks twice.
-- `subjects`: the subject id and the e-mail blind index.
CREATE FUNCTION assent_subjects_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT;
    n BIGINT;
    collect BOOLEAN := current_setting('assent.collect', true) IS NOT DISTINCT FROM 'on';
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT string_agg('s' || id || ',e' || encode(email_index, 'hex'), ','), 2 * count(*) INTO payload, n FROM new_rows;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(id, 'UTF8') FROM new_rows UNION ALL SELECT 1, email_index FROM new_rows;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT string_agg('s' || id || ',e' || encode(email_index, 'hex'), ','), 2 * count(*) INTO payload, n FROM (SELECT id, email_index FROM new_rows UNION ALL SELECT id, email_index FROM old_rows) AS r;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(id, 'UTF8') FROM (SELECT id, email_index FROM new_rows UNION ALL SELECT id, email_index FROM old_rows) AS r UNION ALL SELECT 1, email_index FROM (SELECT id, email_index FROM new_rows UNION ALL SELECT id, email_index FROM old_rows) AS r;
        END IF;
    ELSE
        SELECT string_agg('s' || id || ',e' || encode(email_index, 'hex'), ','), 2 * count(*) INTO payload, n FROM old_rows;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(id, 'UTF8') FROM old_rows UNION ALL SELECT 1, email_index FROM old_rows;
        END IF;
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    -- Past 64 people, or over 7 000 bytes (ids longer than Assent's; the limit is 8 000): anything.
    IF n > 64 OR octet_length(payload) > 7000 THEN
        payload := '';
    END IF;
    PERFORM pg_notify('assent_changed', payload);
    IF collect AND n > 4096 THEN
        INSERT INTO pg_temp.assent_touched (kind) VALUES (2);
    END IF;
    RETURN NULL;
END
$$;

-- `hold_keys`: the holder and the blind index kept for the check.
CREATE FUNCTION assent_holders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT;
    n BIGINT;
    collect BOOLEAN := current_setting('assent.collect', true) IS NOT DISTINCT FROM 'on';
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT string_agg('s' || subject_id || ',e' || encode(email_index, 'hex'), ','), 2 * count(*) INTO payload, n FROM new_rows;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(subject_id, 'UTF8') FROM new_rows UNION ALL SELECT 1, email_index FROM new_rows;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT string_agg('s' || subject_id || ',e' || encode(email_index, 'hex'), ','), 2 * count(*) INTO payload, n FROM (SELECT subject_id, email_index FROM new_rows UNION ALL SELECT subject_id, email_index FROM old_rows) AS r;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(subject_id, 'UTF8') FROM (SELECT subject_id, email_index FROM new_rows UNION ALL SELECT subject_id, email_index FROM old_rows) AS r UNION ALL SELECT 1, email_index FROM (SELECT subject_id, email_index FROM new_rows UNION ALL SELECT subject_id, email_index FROM old_rows) AS r;
        END IF;
    ELSE
        SELECT string_agg('s' || subject_id || ',e' || encode(email_index, 'hex'), ','), 2 * count(*) INTO payload, n FROM old_rows;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(subject_id, 'UTF8') FROM old_rows UNION ALL SELECT 1, email_index FROM old_rows;
        END IF;
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    -- Past 64 people, or over 7 000 bytes (ids longer than Assent's; the limit is 8 000): anything.
    IF n > 64 OR octet_length(payload) > 7000 THEN
        payload := '';
    END IF;
    PERFORM pg_notify('assent_changed', payload);
    IF collect AND n > 4096 THEN
        INSERT INTO pg_temp.assent_touched (kind) VALUES (2);
    END IF;
    RETURN NULL;
END
$$;

-- `consent_state`, `external_ids`, `held_values`: the subject id.
CREATE FUNCTION assent_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT;
    n BIGINT;
    collect BOOLEAN := current_setting('assent.collect', true) IS NOT DISTINCT FROM 'on';
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT string_agg('s' || subject_id, ','), count(*) INTO payload, n FROM new_rows;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(subject_id, 'UTF8') FROM new_rows;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT string_agg('s' || subject_id, ','), count(*) INTO payload, n FROM (SELECT subject_id FROM new_rows UNION ALL SELECT subject_id FROM old_rows) AS r;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(subject_id, 'UTF8') FROM (SELECT subject_id FROM new_rows UNION ALL SELECT subject_id FROM old_rows) AS r;
        END IF;
    ELSE
        SELECT string_agg('s' || subject_id, ','), count(*) INTO payload, n FROM old_rows;
        IF collect AND n <= 4096 THEN
            INSERT INTO pg_temp.assent_touched (kind, k) SELECT 0, convert_to(subject_id, 'UTF8') FROM old_rows;
        END IF;
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    -- Past 64 people, or over 7 000 bytes (ids longer than Assent's; the limit is 8 000): anything.
    IF n > 64 OR octet_length(payload) > 7000 THEN
        payload := '';
    END IF;
    PERFORM pg_notify('assent_changed', payload);
    IF collect AND n > 4096 THEN
        INSERT INTO pg_temp.assent_touched (kind) VALUES (2);
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
