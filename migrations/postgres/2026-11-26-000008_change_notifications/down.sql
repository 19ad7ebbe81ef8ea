DROP TRIGGER api_keys_changed ON api_keys;
DROP TRIGGER consent_state_changed ON consent_state;
DROP TRIGGER subjects_changed ON subjects;
DROP FUNCTION assent_notify_changed();
