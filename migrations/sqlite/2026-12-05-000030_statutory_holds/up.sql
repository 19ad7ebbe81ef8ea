-- PIPA art. 21(1) proviso and 21(3), 전자상거래법 art. 6: data another law obliges the company to
-- keep is not destroyed when consent ends or the person asks for erasure, but moved here,
-- restricted: no list, search, export or consent check uses it (the check answers "restricted");
-- it is destroyed by the retention pass when the obligation ends.
-- A purpose's obligation: JSON {"period": "5y", "law": "..."}, or empty for none.
ALTER TABLE purposes ADD COLUMN obligation TEXT NOT NULL DEFAULT '';
-- One held value: its ciphertext unchanged (still sealed under the person's data key, bound to
-- its row id), the purpose and law it is kept under, and until when.
CREATE TABLE held_values (
    id TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL,
    field_key TEXT NOT NULL,
    purpose_key TEXT NOT NULL,
    law TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    held_since TIMESTAMP NOT NULL,
    held_until TIMESTAMP NOT NULL
);
CREATE INDEX held_values_subject ON held_values(subject_id);
CREATE INDEX held_values_until ON held_values(held_until);
-- A copy of the person's wrapped data key and blind index while anything of theirs is held:
-- erasure destroys the subject's own, and the held values must still open (for the privacy
-- officer) and the consent check must still answer "restricted".
CREATE TABLE hold_keys (
    subject_id TEXT PRIMARY KEY NOT NULL,
    wrapped_key BLOB NOT NULL,
    email_index BLOB NOT NULL
);
CREATE INDEX hold_keys_email ON hold_keys(email_index);
