DROP INDEX audit_log_actor;
DROP INDEX consent_events_time;
DROP INDEX submissions_form_version;
DROP INDEX submissions_created;
