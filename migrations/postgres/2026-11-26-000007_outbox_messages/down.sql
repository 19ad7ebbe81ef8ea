ALTER TABLE outbox ADD COLUMN message BYTEA;
UPDATE outbox SET message = (SELECT m.message FROM outbox_messages m WHERE m.outbox_id = outbox.id);
DROP TABLE outbox_messages;
