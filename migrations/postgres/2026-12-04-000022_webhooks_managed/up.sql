-- Webhook endpoints declared in the console or through the API (issue 16), beside those the
-- workspace file declares. Their secrets are kept sealed under the master key (never in the
-- clear); a file-declared endpoint's secret stays in the file or the environment.
ALTER TABLE webhook_endpoints ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE webhook_endpoints ADD COLUMN secret_sealed BYTEA;
-- The secret being rotated out: it signs beside the new one for 24 hours after rotated_at.
ALTER TABLE webhook_endpoints ADD COLUMN previous_sealed BYTEA;
