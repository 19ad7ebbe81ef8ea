ALTER TABLE webhook_endpoints DROP COLUMN previous_sealed;
ALTER TABLE webhook_endpoints DROP COLUMN secret_sealed;
ALTER TABLE webhook_endpoints DROP COLUMN managed;
