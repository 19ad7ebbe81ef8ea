-- Every transaction that changes a subject, a consent state or an API key tells listeners (each
-- server's consent-check and API-key caches) on channel `assent_changed`, whoever commits it.
-- Statement-level, and PostgreSQL folds identical notifications of one transaction into one.
CREATE FUNCTION assent_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('assent_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER subjects_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
CREATE TRIGGER consent_state_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consent_state
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();
