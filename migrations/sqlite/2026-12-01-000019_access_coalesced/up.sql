-- Identical accesses (same actor, IP pseudonym, person, action and route) within the same UTC
-- second are one access record: `times` says how many there were, `last_at` when the last one
-- was (NULL for a single access, whose record is hashed exactly as before: assent-access/v1).
-- Under a steady stream of consent checks this keeps every access accounted for with a few
-- hundred rows a second instead of tens of thousands.
ALTER TABLE access_records ADD COLUMN times BIGINT NOT NULL DEFAULT 1 CHECK (times >= 1);
ALTER TABLE access_records ADD COLUMN last_at TIMESTAMP;
