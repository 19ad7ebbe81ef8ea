DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE deidentified_exports;
DROP TABLE import_uploads;
DROP TABLE imports;
ALTER TABLE consent_events DROP COLUMN recorded_at;
