-- The preference center's page is cached per person too (issue 21): every table it reads about a
-- person tells which people each statement wrote, as migration 36's tables do (same function,
-- same channel, same lines for the writer). The ledger is append-only: inserts only.

CREATE TRIGGER field_values_inserted AFTER INSERT ON field_values REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER field_values_updated AFTER UPDATE ON field_values REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER field_values_deleted AFTER DELETE ON field_values REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER field_values_truncated AFTER TRUNCATE ON field_values
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

CREATE TRIGGER rights_requests_inserted AFTER INSERT ON rights_requests REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER rights_requests_updated AFTER UPDATE ON rights_requests REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER rights_requests_deleted AFTER DELETE ON rights_requests REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER rights_requests_truncated AFTER TRUNCATE ON rights_requests
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

CREATE TRIGGER sessions_inserted AFTER INSERT ON sessions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER sessions_updated AFTER UPDATE ON sessions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

CREATE TRIGGER consent_events_inserted AFTER INSERT ON consent_events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION assent_person_changed();
