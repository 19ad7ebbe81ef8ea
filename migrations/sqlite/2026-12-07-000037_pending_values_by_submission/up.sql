-- Deleting a submission (an erasure) makes the database look for values still waiting for
-- confirmation that name it, to enforce the foreign key: without an index on the column, a scan
-- of the whole table for each submission deleted.
CREATE INDEX pending_values_submission ON pending_values(submission_id);
