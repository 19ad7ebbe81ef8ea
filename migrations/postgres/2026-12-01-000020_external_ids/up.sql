-- External ids (issue 16): an integrator's own id for a person (its CRM customer id). Found by
-- a blind index (HMAC, never the id itself), kept sealed under the person's data key; one per
-- person and one person per id; deleted with the person's other rows at erasure.
CREATE TABLE external_ids (
    subject_id TEXT PRIMARY KEY NOT NULL REFERENCES subjects (id),
    external_index BYTEA NOT NULL UNIQUE,
    ciphertext BYTEA NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- The consent check answers with the external id, from its cache: a change must reach it.
CREATE TRIGGER external_ids_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON external_ids
    FOR EACH STATEMENT EXECUTE FUNCTION assent_notify_changed();

-- Two more kinds of access record: a page of the event feed (one record per person it names),
-- and an external id attached or removed.
ALTER TABLE access_records DROP CONSTRAINT access_records_action_check;
ALTER TABLE access_records ADD CONSTRAINT access_records_action_check CHECK (action IN ('consent_check', 'view_person', 'export_person', 'change_consent',
        'erase_person', 'verified_submission', 'list_submissions', 'search', 'view_submission',
        'csv_submissions', 'csv_consents',
        'read_events', 'set_external_id'));
