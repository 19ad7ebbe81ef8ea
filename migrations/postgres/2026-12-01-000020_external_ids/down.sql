ALTER TABLE access_records DROP CONSTRAINT access_records_action_check;
ALTER TABLE access_records ADD CONSTRAINT access_records_action_check CHECK (action IN ('consent_check', 'view_person', 'export_person', 'change_consent',
        'erase_person', 'verified_submission', 'list_submissions', 'search', 'view_submission',
        'csv_submissions', 'csv_consents'));
DROP TABLE external_ids;
