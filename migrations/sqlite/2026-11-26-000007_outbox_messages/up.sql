-- Sealed mails live beside the outbox, not in it: leasing and marking a mail sent then rewrites
-- a small row, not the message (several KiB that SQLite keeps in overflow pages, which every
-- read of a later column and every update of the row walked and rewrote).
CREATE TABLE outbox_messages (
    outbox_id TEXT PRIMARY KEY NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    message BLOB NOT NULL
);
INSERT INTO outbox_messages (outbox_id, message) SELECT id, message FROM outbox WHERE message IS NOT NULL;
ALTER TABLE outbox DROP COLUMN message;
