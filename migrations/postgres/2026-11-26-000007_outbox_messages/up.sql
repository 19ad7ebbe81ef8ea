-- Sealed mails live beside the outbox, not in it (identical in migrations/sqlite, where the gain
-- is: leasing and marking a mail sent rewrite a small row, not a message of several KiB).
CREATE TABLE outbox_messages (
    outbox_id TEXT PRIMARY KEY NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    message BYTEA NOT NULL
);
INSERT INTO outbox_messages (outbox_id, message) SELECT id, message FROM outbox WHERE message IS NOT NULL;
ALTER TABLE outbox DROP COLUMN message;
